"""Text and headings out of long documents: PDF (pypdf), DOCX (python-docx) and HWPX (standard library).

Each reader returns the document's own title (if it records one) and its sections in reading order.
Headings come from styles where the format has them (DOCX "Heading n"/"제목 n", HWPX "개요 n"); PDF
has none, so lines that look like Korean administrative headings ("1. 신청 방법", "제2장", "□ 지원 대상")
are taken as headings.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from knowledge.domain.document import DocumentError, Section

# A line that reads like a heading in Korean public documents.
_HEADING_LINE = re.compile(
    r"^(제\s*\d+\s*[장절관조]|[0-9]{1,2}\.(?!\d)|[IVX]{1,4}\.|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]|[가-하]\.|[□■◆◇▣【])\s*\S"
)
_HEADING_MAX_CHARS = 40
# Where a printed title is looked for (first paragraphs) and how long it may be.
_TITLE_WITHIN = 20
_TITLE_MAX_CHARS = 100
# Bold lines that start like this are notes, not headings ("※ 현장 사진 별도 배포 예정").
_NOTE_MARKS = ("※", "*", "주)", "-", "·")
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


@dataclass(frozen=True)
class _HwpxParagraph:
    """A paragraph's text and how it is set: outline level from its style, character height (1/100 pt), bold."""

    text: str
    style_level: int
    height: int
    bold: bool
    in_table: bool


def read_hwpx(path: Path) -> tuple[str | None, list[Section]]:
    """Sections of an HWPX file (OWPML: a zip of XML; ``Contents/section*.xml`` holds ``hp:p``/``hp:t``).

    Headings come from outline styles ("개요 n"), else from how the text is set: the paragraph in the largest
    type near the start is the title (its stored title is often a template's leftover: a real press release
    says "3"), and short bold lines at body size are section headings.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            section_files = sorted(
                (n for n in names if re.fullmatch(r"Contents/section\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n.rsplit("/", 1)[-1])),
            )
            if not section_files:
                raise DocumentError(f"{path}: not an HWPX document (no Contents/section*.xml)")
            styles, shapes = _hwpx_header(archive) if "Contents/header.xml" in names else ({}, {})
            stored_title = _hwpx_title(archive) if "Contents/content.hpf" in names else None
            paragraphs = [p for name in section_files for p in _hwpx_paragraphs(_read_xml(archive, name), styles, shapes)]
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError) as exc:
        raise DocumentError(f"{path}: cannot read HWPX: {exc}") from exc
    if not paragraphs:
        raise DocumentError(f"{path}: the document has no text")
    title_at = _hwpx_title_paragraph(paragraphs)
    sections = _hwpx_sections(paragraphs, title_at)
    return (paragraphs[title_at].text if title_at is not None else stored_title), sections


def _hwpx_paragraphs(
    root: ElementTree.Element, styles: dict[str, str], shapes: dict[str, tuple[int, bool]]
) -> Iterator[_HwpxParagraph]:
    # Bold table cells are column labels ("구분", "지원 내용"), not section headings.
    in_tables = {id(p) for table in root.iter() if _local(table.tag) == "tbl" for p in table.iter() if _local(p.tag) == "p"}
    for element in root.iter():
        if _local(element.tag) != "p":
            continue
        # Only this paragraph's own runs: paragraphs nested in tables are visited themselves.
        runs = [
            (run.get("charPrIDRef", ""), "".join(t.text or "" for t in run if _local(t.tag) == "t"))
            for run in element
            if _local(run.tag) == "run"
        ]
        text = "".join(t for _, t in runs).strip()
        if not text:
            continue
        match = _STYLE_LEVEL.search(styles.get(element.get("styleIDRef", ""), ""))
        set_in = [shapes.get(shape, (0, False)) for shape, t in runs if t.strip()]
        yield _HwpxParagraph(
            text=text,
            style_level=int(match.group(1)) if match else 0,
            height=max(h for h, _ in set_in),
            bold=all(b for _, b in set_in),
            in_table=id(element) in in_tables,
        )


def _body_height(paragraphs: list[_HwpxParagraph]) -> int:
    """The character height most of the text is set in (0 when the file does not say)."""
    weights: Counter[int] = Counter()
    for p in paragraphs:
        weights[p.height] += len(p.text)
    return weights.most_common(1)[0][0]


def _hwpx_title_paragraph(paragraphs: list[_HwpxParagraph]) -> int | None:
    """The index of the title as printed: near the start, in larger type than the body, more than one word."""
    body = _body_height(paragraphs)
    if not body:
        return None
    candidates = [
        (p.height, -i)
        for i, p in enumerate(paragraphs[:_TITLE_WITHIN])
        if p.height > body and len(p.text.split()) > 1 and len(p.text) <= _TITLE_MAX_CHARS and not p.style_level
    ]
    return -max(candidates)[1] if candidates else None


def _hwpx_sections(paragraphs: list[_HwpxParagraph], title_at: int | None) -> list[Section]:
    """Paragraphs with their heading levels; bold heading lines that follow each other are one heading."""
    body = _body_height(paragraphs)
    sections: list[Section] = []
    after_bold_heading = False
    for i, p in enumerate(paragraphs):
        bold_heading = (
            bool(body)
            and p.bold
            and not p.in_table
            and not p.style_level
            and not _heading_level(p.text)
            and p.height >= body
            and len(p.text) <= _HEADING_MAX_CHARS + 20
            and not p.text.startswith(_NOTE_MARKS)
            and (title_at is None or i > title_at)
        )
        joined = f"{sections[-1].text} {p.text}" if sections else ""
        if bold_heading and after_bold_heading and len(joined) <= _TITLE_MAX_CHARS:
            sections[-1] = Section(text=joined, level=2)  # one heading set over two lines
            continue
        if p.style_level:
            level = p.style_level
        elif i == title_at:
            level = 1
        else:
            level = _heading_level(p.text) or (2 if bold_heading else 0)
        after_bold_heading = bold_heading
        sections.append(Section(text=p.text, level=level))
    return sections


def _hwpx_header(archive: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, tuple[int, bool]]]:
    """Style id -> style name (Korean names such as "개요 1" mark outline headings); character shape id -> (height, bold)."""
    header = _read_xml(archive, "Contents/header.xml")
    styles = {el.get("id", ""): el.get("name", "") for el in header.iter() if _local(el.tag) == "style"}
    shapes = {el.get("id", ""): _char_shape(el) for el in header.iter() if _local(el.tag) == "charPr"}
    return styles, shapes


def _char_shape(element: ElementTree.Element) -> tuple[int, bool]:
    """A character shape's height (1/100 pt; 0 if unreadable) and whether it is bold."""
    height = element.get("height", "")
    return (int(height) if height.isdigit() else 0), any(_local(child.tag) == "bold" for child in element)


def _hwpx_title(archive: zipfile.ZipFile) -> str | None:
    for el in _read_xml(archive, "Contents/content.hpf").iter():
        if _local(el.tag) == "title" and el.text and el.text.strip():
            return el.text.strip()
    return None


READERS = {".pdf": read_pdf, ".docx": read_docx, ".hwpx": read_hwpx}
