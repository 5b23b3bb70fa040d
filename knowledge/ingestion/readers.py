"""Text and headings out of long documents: PDF (pypdf), DOCX (python-docx), HWPX (hwpx.py) and HWP (hwp.py).

Each reader returns the document's own title (if it records one) and its sections in reading order.
Headings come from styles where the format has them (DOCX "Heading n"/"제목 n", HWP/HWPX "개요 n"); PDF
has none, so lines that look like Korean administrative headings ("1. 신청 방법", "제2장", "□ 지원 대상")
are taken as headings.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from knowledge.domain.document import Section
from knowledge.ingestion.errors import NeedsTextError, UnreadableDocumentError
from knowledge.ingestion.hwp import read_hwp
from knowledge.ingestion.hwpx import read_hwpx
from knowledge.ingestion.typeset import STYLE_LEVEL, heading_level

__all__ = ["READERS", "read_docx", "read_hwp", "read_hwpx", "read_pdf"]


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
        raise UnreadableDocumentError(
            path, f"cannot read PDF: {exc}", "PDF 파일을 읽을 수 없어요: 손상되었거나 암호가 걸려 있어요"
        ) from exc
    sections: list[Section] = []
    for number, text in pages:
        paragraph: list[str] = []
        for raw in text.splitlines():
            line = " ".join(raw.split())
            level = heading_level(line) if line else 0
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
        raise NeedsTextError(path)
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
        raise UnreadableDocumentError(
            path, f"cannot read DOCX: {exc}", "DOCX 파일을 읽을 수 없어요: 워드에서 다시 저장해 올려 주세요"
        ) from exc
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
            match = STYLE_LEVEL.search(style or "")
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
        raise UnreadableDocumentError(path, "the document has no text", "글자가 없는 문서예요")
    title = document.core_properties.title or None
    return title, sections


READERS: dict[str, Callable[[Path], tuple[str | None, list[Section]]]] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".hwpx": read_hwpx,
    ".hwp": read_hwp,
}
