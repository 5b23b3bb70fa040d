"""Read every supported knowledge file under a path, validating all of it before anything is written.

FAQ files: YAML (a list of entries), CSV and XLSX (one row per entry, English or Korean column
names), Markdown (one ``## question {#id}`` section per entry). Long documents: PDF, DOCX, HWPX and HWP,
with optional metadata in ``<file>.meta.yaml`` beside them. Every unreadable or unsupported file and every
invalid row is collected with its reason; callers write nothing while any problem remains.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.domain.document import DocumentError, LongDocument, Section
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.readers import READERS
from knowledge.ingestion.seed_files import describe_validation_error, load_faq_file, validate_faq_rows

FAQ_SUFFIXES = (".yaml", ".yml", ".csv", ".xlsx", ".md", ".markdown")
DOCUMENT_SUFFIXES = tuple(READERS)
META_SUFFIX = ".meta.yaml"

# Column names welfare teams use, folded (lowercase, no spaces or underscores) -> FaqEntry field.
_COLUMNS = {
    "id": "id", "아이디": "id", "번호": "id",
    "question": "question", "질문": "question",
    "alternatives": "alternatives", "다른표현": "alternatives", "유사질문": "alternatives", "비슷한질문": "alternatives",
    "answer": "answer", "답변": "answer", "답": "answer",
    "category": "category", "분류": "category", "카테고리": "category",
    "target": "target", "대상": "target",
    "department": "department", "담당부서": "department", "부서": "department",
    "phone": "phone", "전화": "phone", "전화번호": "phone", "연락처": "phone",
    "sourcetitle": "source_title", "출처": "source_title",
    "sourceurl": "source_url", "출처링크": "source_url", "링크": "source_url", "url": "source_url",
    "updatedat": "updated_at", "수정일": "updated_at", "확인일": "updated_at",
    "validfrom": "valid_from", "시작일": "valid_from", "적용시작": "valid_from",
    "validuntil": "valid_until", "종료일": "valid_until", "적용종료": "valid_until",
    "needsreview": "needs_review", "검토필요": "needs_review",
    "tenant": "tenant", "기관": "tenant", "지자체": "tenant",
}  # fmt: skip
_YES = {"예", "네", "o", "y", "v", "✓", "true", "yes", "1"}
_NO = {"아니오", "아니요", "x", "n", "false", "no", "0", ""}
_MD_QUESTION = re.compile(r"^##\s+(?P<question>.+?)\s*\{#(?P<id>[^}]+)\}\s*$")
_MD_FIELD = re.compile(r"^(?P<key>[\w가-힣 ]+?)\s*:\s*(?P<value>.*)$")
_LETTERS = re.compile(r"[가-힣A-Za-z]")
# Files a folder may hold that are nobody's knowledge.
_SYSTEM_FILES = {"thumbs.db", "desktop.ini"}
# Formats welfare teams have that we do not read, and what to save them as.
_SAVE_AS = {
    ".doc": "예전 워드(DOC) 형식이에요: 워드에서 DOCX나 PDF로 저장해 올려 주세요",
    ".hwt": "한글 서식 파일이에요: 한글에서 HWP나 HWPX 문서로 저장해 올려 주세요",
    ".hwpml": "HWPML 형식이에요: 한글에서 HWP나 HWPX로 저장해 올려 주세요",
    ".xls": "예전 엑셀(XLS) 형식이에요: 엑셀에서 XLSX로 저장해 올려 주세요",
    ".txt": "텍스트 파일은 읽지 않아요: FAQ는 CSV나 Markdown으로, 문서는 PDF나 DOCX로 올려 주세요",
}
# A document's first heading counts as its title only within its first sections.
_TITLE_WITHIN = 10


@dataclass
class LoadedKnowledge:
    """Everything read from a path: FAQ entries, long documents, and the problems found."""

    faqs: list[FaqEntry] = field(default_factory=list)
    documents: list[LongDocument] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: int = 0


@dataclass(frozen=True)
class DocumentDefaults:
    """Metadata for long documents that have no ``.meta.yaml`` of their own."""

    tenant: str = "national"
    category: str = ""


def _fold(header: str) -> str:
    return re.sub(r"[\s_\-]", "", str(header).strip().lower())


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _row_to_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A spreadsheet row (already mapped to field names) as FaqEntry input."""
    entry = {k: v for k, v in row.items() if k not in ("source_title", "source_url") and v != ""}
    if "alternatives" in entry:
        entry["alternatives"] = [a.strip() for a in re.split(r"[|\n]", str(entry["alternatives"])) if a.strip()]
    review = str(row.get("needs_review", "")).strip().lower()
    if review in _YES | _NO:
        entry["needs_review"] = review in _YES
    entry["source"] = {"title": row.get("source_title", ""), "url": row.get("source_url", "")}
    return entry


def _table_entries(path: Path, header: list[Any], rows: list[tuple[int, list[Any]]]) -> list[FaqEntry]:
    """Validate spreadsheet rows; raises with every bad column and row listed."""
    names = [_COLUMNS.get(_fold(h)) for h in header]
    unknown = [str(h) for h, n in zip(header, names, strict=True) if n is None and str(h or "").strip()]
    if unknown:
        raise DocumentError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(set(_COLUMNS)))}")
    values = ((number, {n: _cell(c) for n, c in zip(names, cells, strict=False) if n is not None}) for number, cells in rows)
    return validate_faq_rows(path, ((f"row {number}", _row_to_entry(row)) for number, row in values if any(row.values())))


def load_faq_csv(path: Path) -> list[FaqEntry]:
    """FAQ rows from CSV (UTF-8, with or without BOM, or CP949 as Korean Excel saves it)."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DocumentError(f"{path}: not UTF-8 or CP949 text")
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        return []
    return _table_entries(path, lines[0], [(i, row) for i, row in enumerate(lines[1:], 2)])


def load_faq_xlsx(path: Path) -> list[FaqEntry]:
    """FAQ rows from the first sheet of an Excel workbook (header in row 1)."""
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("reading XLSX needs 'openpyxl': pip install openpyxl") from exc
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError) for a broken file
        raise DocumentError(f"{path}: cannot read XLSX: {exc}") from exc
    try:
        rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not rows:
        return []
    return _table_entries(path, rows[0], [(i, row) for i, row in enumerate(rows[1:], 2)])


def load_faq_markdown(path: Path) -> list[FaqEntry]:
    """FAQ entries from Markdown: YAML front matter for shared fields, one ``## 질문 {#id}`` per entry.

    Inside a section, leading ``key: value`` lines set fields (``다른 표현: a | b``, ``valid_until: ...``);
    the remaining paragraphs are the answer.
    """
    text = path.read_text(encoding="utf-8-sig")
    shared: dict[str, Any] = {}
    if text.startswith("---\n"):
        head, sep, rest = text[4:].partition("\n---\n")
        if not sep:
            raise DocumentError(f"{path}: front matter opened with --- is never closed")
        try:
            shared = yaml.safe_load(head) or {}
        except yaml.YAMLError as exc:
            raise DocumentError(f"{path}: cannot read front matter: {exc}") from exc
        if not isinstance(shared, dict):
            raise DocumentError(f"{path}: front matter must be key: value pairs")
        text = rest
    sections: list[tuple[int, re.Match[str], list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _MD_QUESTION.match(line)
        if match:
            sections.append((number, match, []))
        elif line.startswith("## "):
            raise DocumentError(f"{path}: line {number}: a question heading needs an id: '## 질문 {{#my-id}}'")
        elif sections:
            sections[-1][2].append(line)

    def md_row(match: re.Match[str], body: list[str]) -> dict[str, Any]:
        row: dict[str, Any] = {**shared, "id": match["id"].strip(), "question": match["question"]}
        lines = list(body)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and (field_match := _MD_FIELD.match(lines[0])) and _COLUMNS.get(_fold(field_match["key"])):
            name = _COLUMNS[_fold(field_match["key"])]
            value = field_match["value"].strip()
            row[name] = [a.strip() for a in value.split("|") if a.strip()] if name == "alternatives" else value
            lines.pop(0)
        row["answer"] = "\n".join(lines).strip()
        return row

    return validate_faq_rows(path, ((f"line {n} ({m['id']})", md_row(m, body)) for n, m, body in sections))


_FAQ_LOADERS: dict[str, Callable[[Path], list[FaqEntry]]] = {
    ".yaml": load_faq_file,
    ".yml": load_faq_file,
    ".csv": load_faq_csv,
    ".xlsx": load_faq_xlsx,
    ".md": load_faq_markdown,
    ".markdown": load_faq_markdown,
}


def document_id(path: Path) -> str:
    """A stable id from a file name: its ASCII slug, or a hash for Korean names ("doc-3f2a...")."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    digest = hashlib.sha1(path.name.encode("utf-8")).hexdigest()[:8]
    return f"{slug[:60]}-{digest}" if len(slug) >= 3 else f"doc-{digest}"


def document_title(stored: str | None, sections: Sequence[Section]) -> str | None:
    """The title a document names itself by: its stored title if it reads like one, else its first top heading.

    Stored titles are often a template's leftover ("3", "1"): a title needs at least two letters.
    """
    if stored and len(_LETTERS.findall(stored)) >= 2:
        return stored.strip()
    top = min((s.level for s in sections[:_TITLE_WITHIN] if s.level), default=0)
    return next((s.text for s in sections[:_TITLE_WITHIN] if top and s.level == top), None)


def load_document(path: Path, defaults: DocumentDefaults = DocumentDefaults()) -> LongDocument:
    """Read a PDF, DOCX, HWPX or HWP file with its metadata (from ``<file>.meta.yaml`` where present)."""
    title, sections = READERS[path.suffix.lower()](path)
    meta: dict[str, Any] = {}
    meta_path = path.with_name(path.name + META_SUFFIX)
    if meta_path.exists():
        try:
            meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DocumentError(f"{meta_path}: cannot read: {exc}") from exc
        if not isinstance(meta, dict):
            raise DocumentError(f"{meta_path}: must be key: value pairs")
    title = str(meta.get("title") or document_title(title, sections) or path.stem)
    row = {
        "id": document_id(path),
        "title": title,
        "source": {"title": title, "url": ""},
        "updated_at": date.fromtimestamp(path.stat().st_mtime),
        "tenant": defaults.tenant,
        "category": defaults.category,
        **meta,
        "file_name": path.name,
        "sections": sections,
    }
    try:
        document = LongDocument.model_validate(row)
    except ValidationError as exc:
        raise DocumentError(f"{path}: {describe_validation_error(exc)}") from exc
    if len(_LETTERS.findall(document.source.title)) < 2:
        # A citizen must never read "출처: 3": a source title without words is the document's own title.
        document = document.model_copy(update={"source": document.source.model_copy(update={"title": document.title})})
    return document


def _files(path: Path) -> list[Path]:
    """Every file under ``path`` but metadata sidecars, hidden files, Office lock files and Windows' own files."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not p.name.endswith(META_SUFFIX)
        and not any(part.startswith((".", "~$")) for part in p.relative_to(path).parts)
        and p.name.lower() not in _SYSTEM_FILES
    )


def unsupported(file: Path) -> str:
    """Why a file is not read, with what to do instead (every file is read or reported, never skipped silently)."""
    suffix = file.suffix.lower()
    hint = _SAVE_AS.get(suffix, "PDF, DOCX, HWPX, HWP 문서나 YAML, CSV, XLSX, Markdown FAQ 파일만 올릴 수 있어요")
    return f"{file}: unsupported format {suffix or '(no extension)'!r}; use one of {', '.join(FAQ_SUFFIXES + DOCUMENT_SUFFIXES)} ({hint})"


def load_knowledge(path: Path, defaults: DocumentDefaults = DocumentDefaults()) -> LoadedKnowledge:
    """Read every supported file under ``path`` (a file or a folder); problems are collected, not raised."""
    loaded = LoadedKnowledge()
    if not path.exists():
        loaded.problems.append(f"{path}: no such file or folder")
        return loaded
    files = _files(path)
    if not files:
        loaded.problems.append(f"{path}: no files to read (읽을 파일이 없는 폴더예요)")
    for file in files:
        suffix = file.suffix.lower()
        loaded.files += 1
        try:
            if suffix in _FAQ_LOADERS:
                loaded.faqs.extend(_FAQ_LOADERS[suffix](file))
            elif suffix in READERS:
                loaded.documents.append(load_document(file, defaults))
            else:
                loaded.problems.append(unsupported(file))
        except DocumentError as exc:
            loaded.problems.append(str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            loaded.problems.append(f"{file}: cannot read: {exc}")
    seen: dict[str, str] = {}
    for doc_id, kind in [(e.id, "FAQ") for e in loaded.faqs] + [(d.id, "document") for d in loaded.documents]:
        if doc_id in seen:
            loaded.problems.append(f"duplicate {kind} id {doc_id!r} (also a {seen[doc_id]})")
        seen[doc_id] = kind
    return loaded
