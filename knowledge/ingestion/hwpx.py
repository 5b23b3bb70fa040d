"""HWPX (OWPML: a zip of XML, the format 한글 2014+ saves) read into titled, headed sections, standard library only.

``Contents/section*.xml`` holds paragraphs (``hp:p``) of runs (``hp:run``) of text (``hp:t``). What is body text:
the runs' ``hp:t`` (with ``hp:tab``/``hp:lineBreak`` inside as spaces), table cells row by row, text boxes and
captions of drawing objects, footnotes after their paragraph. What is not: headers and footers (``hp:header``,
``hp:footer``), field instructions (``hp:fieldBegin`` parameters such as "Clickhere:set:..."), hidden comments,
shape comments ("사각형입니다."), and the preview (``Preview/PrvText.txt``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from knowledge.domain.document import Section
from knowledge.ingestion.errors import UnreadableDocumentError
from knowledge.ingestion.typeset import STYLE_LEVEL, SetParagraph, clean_text, set_sections, table_paragraphs

# Limit against zip bombs (bytes after decompression).
_MAX_XML_BYTES = 50_000_000
# Characters that stand inside hp:t as elements.
_INLINE = {"tab": " ", "lineBreak": " ", "nbSpace": " ", "fwSpace": " ", "hyphen": "-"}
# Controls whose paragraphs are notes to the text: kept, after the paragraph they belong to.
_NOTES = {"footNote", "endNote"}
# Drawing objects' parts that hold paragraphs a reader sees (text boxes, captions).
_SHAPE_TEXT = {"drawText", "caption"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unreadable(path: Path, reason: str) -> UnreadableDocumentError:
    return UnreadableDocumentError(
        path, f"cannot read HWPX: {reason}", "HWPX 파일을 읽을 수 없어요: 한글에서 다시 저장해 올려 주세요"
    )


def _read_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    info = archive.getinfo(name)
    if info.file_size > _MAX_XML_BYTES:
        raise ValueError(f"{name} is {info.file_size} bytes uncompressed; refusing (limit {_MAX_XML_BYTES})")
    return ElementTree.fromstring(archive.read(name))


@dataclass(frozen=True)
class _Shapes:
    """What the header says about paragraphs: style id -> outline level, character shape id -> (height, bold)."""

    levels: dict[str, int]
    chars: dict[str, tuple[int, bool]]


def read_hwpx(path: Path) -> tuple[str | None, list[Section]]:
    """The printed title (else the stored one) and the sections of an HWPX file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "META-INF/manifest.xml" in names and b"encryption-data" in archive.read("META-INF/manifest.xml"):
                raise UnreadableDocumentError(
                    path,
                    "the HWPX file is password-protected",
                    "암호가 걸린 문서예요: 한글에서 암호를 해제하고 다시 저장해 올려 주세요",
                )
            section_files = sorted(
                (n for n in names if re.fullmatch(r"Contents/section\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n.rsplit("/", 1)[-1])),
            )
            if not section_files:
                raise _unreadable(path, "not an HWPX document (no Contents/section*.xml)")
            shapes = _header(_read_xml(archive, "Contents/header.xml")) if "Contents/header.xml" in names else _Shapes({}, {})
            stored_title = _stored_title(_read_xml(archive, "Contents/content.hpf")) if "Contents/content.hpf" in names else None
            paragraphs = [
                block
                for name in section_files
                for element in _read_xml(archive, name)
                if _local(element.tag) == "p"
                for block in _blocks(element, shapes)
            ]
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError, ValueError) as exc:
        if isinstance(exc, UnreadableDocumentError):
            raise
        raise _unreadable(path, str(exc)) from exc
    if not paragraphs:
        raise UnreadableDocumentError(
            path, "the document has no body text", "본문에 글자가 없는 문서예요 (머리말·꼬리말은 본문으로 읽지 않아요)"
        )
    title, sections = set_sections(paragraphs)
    return title or stored_title, sections


def _blocks(paragraph: ElementTree.Element, shapes: _Shapes) -> Iterator[SetParagraph]:
    """A paragraph's text, split where a table or a text box stands in it, then its notes."""
    level = shapes.levels.get(paragraph.get("styleIDRef", ""), 0)
    pieces: list[tuple[str, str]] = []
    notes: list[SetParagraph] = []

    def flush() -> Iterator[SetParagraph]:
        text = clean_text("".join(t for _, t in pieces))
        if text:
            set_in = [shapes.chars.get(shape, (0, False)) for shape, t in pieces if t.strip()]
            yield SetParagraph(text, level, max(h for h, _ in set_in), all(b for _, b in set_in))
        pieces.clear()

    for run in paragraph:
        if _local(run.tag) != "run":
            continue
        shape = run.get("charPrIDRef", "")
        for child in run:
            name = _local(child.tag)
            if name == "t":
                pieces.append((shape, _text(child)))
            elif name == "tbl":
                yield from flush()
                yield from _table(child, shapes)
            elif name == "ctrl":
                notes.extend(
                    block
                    for note in child
                    if _local(note.tag) in _NOTES
                    for p in note.iter()
                    if _local(p.tag) == "p"
                    for block in _blocks(p, shapes)
                )
            elif name != "secPr" and (boxed := [block for p in _shape_paragraphs(child) for block in _blocks(p, shapes)]):
                yield from flush()
                yield from boxed
    yield from flush()
    yield from notes


def _text(t: ElementTree.Element) -> str:
    """An ``hp:t``: its text with tabs, line breaks and special spaces inside it as plain characters."""
    parts = [t.text or ""]
    for child in t:
        parts.append(_INLINE.get(_local(child.tag), ""))
        parts.append(child.tail or "")
    return "".join(parts)


def _table(table: ElementTree.Element, shapes: _Shapes) -> list[SetParagraph]:
    rows = [
        [
            [
                block
                for sub in cell
                if _local(sub.tag) == "subList"
                for p in sub
                if _local(p.tag) == "p"
                for block in _blocks(p, shapes)
            ]
            for cell in row
            if _local(cell.tag) == "tc"
        ]
        for row in table
        if _local(row.tag) == "tr"
    ]
    return table_paragraphs(rows)


def _shape_paragraphs(shape: ElementTree.Element) -> Iterator[ElementTree.Element]:
    """Paragraphs of a drawing object's text box and caption (also inside grouped objects), in order."""
    for child in shape:
        name = _local(child.tag)
        if name in _SHAPE_TEXT:
            for sub in child.iter():
                if _local(sub.tag) == "subList":
                    yield from (p for p in sub if _local(p.tag) == "p")
                    break
        elif name not in ("p", "shapeComment"):
            yield from _shape_paragraphs(child)


def _header(header: ElementTree.Element) -> _Shapes:
    """Style names ("개요 1" marks an outline heading) and character shapes (height in 1/100 pt, bold)."""
    levels: dict[str, int] = {}
    for el in header.iter():
        if _local(el.tag) == "style" and (match := STYLE_LEVEL.search(el.get("name", ""))):
            levels[el.get("id", "")] = int(match.group(1))
    chars = {el.get("id", ""): _char_shape(el) for el in header.iter() if _local(el.tag) == "charPr"}
    return _Shapes(levels, chars)


def _char_shape(element: ElementTree.Element) -> tuple[int, bool]:
    height = element.get("height", "")
    return (int(height) if height.isdigit() else 0), any(_local(child.tag) == "bold" for child in element)


def _stored_title(package: ElementTree.Element) -> str | None:
    for el in package.iter():
        if _local(el.tag) == "title" and el.text and el.text.strip():
            return clean_text(el.text)
    return None
