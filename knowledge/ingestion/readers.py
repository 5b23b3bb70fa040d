"""Text and headings out of long documents: PDF (pypdf), DOCX (python-docx) and HWPX (standard library).

Each reader returns the document's own title (if it records one) and its sections in reading order.
Headings come from styles where the format has them (DOCX "Heading n"/"제목 n", HWPX "개요 n"); PDF
has none, so lines that look like Korean administrative headings ("1. 신청 방법", "제2장", "□ 지원 대상")
are taken as headings.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from knowledge.domain.document import DocumentError, Section

# A line that reads like a heading in Korean public documents.
_HEADING_LINE = re.compile(
    r"^(제\s*\d+\s*[장절관조]|[0-9]{1,2}\.(?!\d)|[IVX]{1,4}\.|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]|[가-하]\.|[□■◆◇▣【])\s*\S"
)
_HEADING_MAX_CHARS = 40
_STYLE_LEVEL = re.compile(r"(?:heading|제목|개요)\s*(\d)", re.IGNORECASE)
# Limits against zip bombs in HWPX files (bytes after decompression).
_MAX_XML_BYTES = 50_000_000


def _heading_level(line: str) -> int:
    """1 for chapter-like lines ("제1장", "Ⅰ."), 2 for numbered ("1."), 3 for the rest, 0 for body text."""
    if len(line) > _HEADING_MAX_CHARS or line.endswith((".", "다", "요", ",")) or not _HEADING_LINE.match(line):
        return 0
    if re.match(r"^(제\s*\d+\s*[장관]|[IVX]+\.|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])", line):
        return 1
    return 2 if re.match(r"^([0-9]{1,2}\.|제\s*\d+\s*[절조])", line) else 3


def read_pdf(path: Path) -> tuple[str | None, list[Section]]:
    """Sections of a PDF with a text layer; wrapped lines are joined into paragraphs."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("reading PDF needs 'pypdf': pip install pypdf") from exc
    try:
        reader = PdfReader(str(path))
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, 1)]
        title = reader.metadata.title if reader.metadata and reader.metadata.title else None
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise DocumentError(f"{path}: cannot read PDF: {exc}") from exc
    sections: list[Section] = []
    for number, text in pages:
        paragraph: list[str] = []
        for raw in text.splitlines():
            line = " ".join(raw.split())
            level = _heading_level(line) if line else 0
            if not line or level:
                if paragraph:
                    sections.append(Section(text=" ".join(paragraph), page=number))
                    paragraph = []
                if level:
                    sections.append(Section(text=line, level=level, page=number))
                continue
            paragraph.append(line)
            if line.endswith((".", "?", "!", "다", "요")):
                sections.append(Section(text=" ".join(paragraph), page=number))
                paragraph = []
        if paragraph:
            sections.append(Section(text=" ".join(paragraph), page=number))
    if not sections:
        raise DocumentError(f"{path}: the PDF has no text layer (scanned pages need OCR first)")
    return title, sections


def read_docx(path: Path) -> tuple[str | None, list[Section]]:
    """Sections of a Word document: headings from paragraph styles, tables row by row."""
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("reading DOCX needs 'python-docx': pip install python-docx") from exc
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{path}: cannot read DOCX: {exc}") from exc
    sections: list[Section] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text.strip()
            if not text:
                continue
            style = paragraph.style.name if paragraph.style is not None else ""
            match = _STYLE_LEVEL.search(style or "")
            level = int(match.group(1)) if match else (1 if style == "Title" else 0)
            sections.append(Section(text=text, level=level))
        elif tag == "tbl":
            table = Table(child, document)
            for row in table.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                line = " | ".join(dict.fromkeys(c for c in cells if c))  # merged cells repeat their text
                if line:
                    sections.append(Section(text=line))
    if not sections:
        raise DocumentError(f"{path}: the document has no text")
    title = document.core_properties.title or None
    return title, sections


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    info = archive.getinfo(name)
    if info.file_size > _MAX_XML_BYTES:
        raise DocumentError(f"{name} is {info.file_size} bytes uncompressed; refusing (limit {_MAX_XML_BYTES})")
    return ElementTree.fromstring(archive.read(name))


def read_hwpx(path: Path) -> tuple[str | None, list[Section]]:
    """Sections of an HWPX file (OWPML: a zip of XML; ``Contents/section*.xml`` holds ``hp:p``/``hp:t``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            section_files = sorted(
                (n for n in names if re.fullmatch(r"Contents/section\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n.rsplit("/", 1)[-1])),
            )
            if not section_files:
                raise DocumentError(f"{path}: not an HWPX document (no Contents/section*.xml)")
            styles = _hwpx_styles(archive) if "Contents/header.xml" in names else {}
            title = _hwpx_title(archive) if "Contents/content.hpf" in names else None
            sections: list[Section] = []
            for name in section_files:
                for element in _read_xml(archive, name).iter():
                    if _local(element.tag) != "p":
                        continue
                    # Only this paragraph's own runs: paragraphs nested in tables are visited themselves.
                    text = "".join(
                        t.text or "" for run in element if _local(run.tag) == "run" for t in run if _local(t.tag) == "t"
                    ).strip()
                    if not text:
                        continue
                    match = _STYLE_LEVEL.search(styles.get(element.get("styleIDRef", ""), ""))
                    level = int(match.group(1)) if match else _heading_level(text)
                    sections.append(Section(text=text, level=level))
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError) as exc:
        raise DocumentError(f"{path}: cannot read HWPX: {exc}") from exc
    if not sections:
        raise DocumentError(f"{path}: the document has no text")
    return title, sections


def _hwpx_styles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Style id -> style name (Korean names such as "개요 1" mark outline headings)."""
    return {
        el.get("id", ""): el.get("name", "")
        for el in _read_xml(archive, "Contents/header.xml").iter()
        if _local(el.tag) == "style"
    }


def _hwpx_title(archive: zipfile.ZipFile) -> str | None:
    for el in _read_xml(archive, "Contents/content.hpf").iter():
        if _local(el.tag) == "title" and el.text and el.text.strip():
            return el.text.strip()
    return None


READERS = {".pdf": read_pdf, ".docx": read_docx, ".hwpx": read_hwpx}
