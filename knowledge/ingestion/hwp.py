"""HWP 5.0 (한글's binary format: an OLE compound file) read into titled, headed sections, on olefile and zlib.

Written from Hancom's published format description ("한글 문서 파일 형식 5.0", revision 1.3): ``FileHeader`` says
whether streams are deflated and whether the document is password-protected or a distribution (DRM) copy;
``DocInfo`` holds the character shapes (height, bold) and styles ("개요 1") that headings are told by;
``BodyText/SectionN`` holds records (a 32-bit header: tag, level, size) whose levels nest them. A paragraph
(``PARA_HEADER``) has its text (``PARA_TEXT``: UTF-16LE with control characters inline) and its controls
(``CTRL_HEADER``: tables, drawing objects, headers and footers, footnotes, fields) as children. Controls
that hold paragraphs of their own (table cells, text boxes, captions, notes) list them after a
``LIST_HEADER``. Body text is read in that order; headers, footers, hidden comments, field instructions and
control codes are left out. ``PrvText`` (the preview the file carries) is only a fallback, with a warning.
"""

from __future__ import annotations

import bisect
import logging
import re
import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.domain.document import Section
from knowledge.ingestion.errors import UnreadableDocumentError
from knowledge.ingestion.typeset import STYLE_LEVEL, SetParagraph, clean_text, set_sections, table_paragraphs

log = logging.getLogger(__name__)

_SIGNATURE = b"HWP Document File"
# FileHeader attribute bits.
_COMPRESSED, _PASSWORD, _DISTRIBUTION, _DRM, _CERT_DRM = 0x1, 0x2, 0x4, 0x10, 0x400
# Record tags (HWPTAG_BEGIN = 16).
_CHAR_SHAPE, _STYLE = 21, 26
_PARA_HEADER, _PARA_TEXT, _PARA_CHAR_SHAPE, _CTRL_HEADER, _LIST_HEADER, _TABLE = 66, 67, 68, 71, 72, 77
# Control characters in PARA_TEXT: these take one WCHAR; every other code below 32 takes eight (the code,
# six WCHARs of data, the code again). Of the eight-WCHAR ones, "extended" ones own a CTRL_HEADER record.
_ONE_WCHAR = frozenset({0, 10, 13, *range(24, 32)})
_EXTENDED = frozenset({1, 2, 3, 11, 12, 14, 15, 16, 17, 18, 21, 22, 23})
_AS_TEXT = {9: " ", 10: " ", 24: "-", 30: " ", 31: " "}  # tab, line break, hyphen, non-breaking and fixed spaces
# Controls whose paragraphs are read: tables, drawing objects (text boxes, captions), footnotes and endnotes.
_TABLE_ID, _SHAPE_ID, _NOTE_IDS = "tbl ", "gso ", frozenset({"fn  ", "en  "})
# Limit against decompression bombs (bytes of one stream after inflating).
_MAX_STREAM_BYTES = 64_000_000
_BOLD = 0x2


@dataclass
class _Record:
    tag: int
    level: int
    data: bytes
    children: list[_Record] = field(default_factory=list)


@dataclass(frozen=True)
class _Styles:
    """From DocInfo: each style's outline level ("개요 2" -> 2) and each character shape's (height, bold)."""

    levels: list[int]
    chars: list[tuple[int, bool]]


def read_hwp(path: Path) -> tuple[str | None, list[Section]]:
    """The printed title and the sections of an HWP 5.0 file.

    The summary's stored title is not used: real files carry an author's name or a template's leftover there.
    """
    try:
        import olefile
    except ImportError as exc:  # pragma: no cover - depends on the installed requirements
        raise RuntimeError("reading HWP needs 'olefile': pip install olefile") from exc
    _check_signature(path, olefile)
    try:
        with olefile.OleFileIO(str(path)) as ole:
            compressed = _check_header(path, ole.openstream("FileHeader").read())
            styles = _doc_info(_stream(ole, "DocInfo", compressed))
            sections = sorted(
                ("/".join(entry) for entry in ole.listdir() if len(entry) == 2 and entry[0] == "BodyText"),
                key=lambda name: int(re.sub(r"\D", "", name) or 0),
            )
            paragraphs = [p for name in sections for p in _section_paragraphs(_stream(ole, name, compressed), styles)]
            preview = ole.openstream("PrvText").read() if ole.exists("PrvText") else b""
    except UnreadableDocumentError:
        raise
    except (OSError, struct.error, zlib.error, ValueError, IndexError, KeyError) as exc:
        raise _unreadable(path, str(exc)) from exc
    if not paragraphs:
        paragraphs = _preview_paragraphs(path, preview)
    title, found = set_sections(paragraphs)
    return title, found


def _unreadable(path: Path, reason: str) -> UnreadableDocumentError:
    return UnreadableDocumentError(
        path, f"cannot read HWP: {reason}", "HWP 파일을 읽을 수 없어요: 한글에서 다시 저장해 올려 주세요"
    )


def _check_signature(path: Path, olefile: Any) -> None:
    """An OLE file, else a clear word on what it is (HWP 3.x starts with the signature in plain bytes)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(32)
    except OSError as exc:
        raise _unreadable(path, str(exc)) from exc
    if head.startswith(_SIGNATURE):
        raise UnreadableDocumentError(
            path,
            "HWP 3.x files are not supported",
            "예전 한글(HWP 3.0) 형식이에요: 한글에서 열어 HWP나 HWPX로 다시 저장해 올려 주세요",
        )
    if not olefile.isOleFile(str(path)):
        raise _unreadable(path, "not an HWP 5.0 file (no OLE compound file signature)")


def _check_header(path: Path, header: bytes) -> bool:
    """Whether streams are deflated; protected or unsupported documents are refused with what to do."""
    if len(header) < 40 or not header.startswith(_SIGNATURE):
        raise _unreadable(path, "FileHeader has no HWP signature")
    version, flags = struct.unpack_from("<II", header, 32)
    if version >> 24 != 5:
        raise _unreadable(path, f"HWP version {version >> 24} is not supported (5.x only)")
    if flags & _PASSWORD:
        raise UnreadableDocumentError(
            path, "the HWP file is password-protected", "암호가 걸린 문서예요: 한글에서 암호를 해제하고 다시 저장해 올려 주세요"
        )
    if flags & (_DISTRIBUTION | _DRM | _CERT_DRM):
        raise UnreadableDocumentError(
            path,
            "the HWP file is a distribution (DRM-protected) copy whose text is encrypted",
            "배포용(보안) 문서라 글자를 읽을 수 없어요: 원본 문서를 올려 주세요",
        )
    return bool(flags & _COMPRESSED)


def _stream(ole: Any, name: str, compressed: bool) -> bytes:
    raw: bytes = ole.openstream(name).read()
    if not compressed:
        return raw
    inflater = zlib.decompressobj(-15)
    data = inflater.decompress(raw, _MAX_STREAM_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"{name} inflates past {_MAX_STREAM_BYTES} bytes; refusing")
    return data


def _records(data: bytes) -> list[_Record]:
    """Records nested by level: a record's children are the deeper ones that follow it."""
    roots: list[_Record] = []
    stack: list[_Record] = []
    at = 0
    while at + 4 <= len(data):
        (header,) = struct.unpack_from("<I", data, at)
        at += 4
        tag, level, size = header & 0x3FF, (header >> 10) & 0x3FF, header >> 20
        if size == 0xFFF:
            (size,) = struct.unpack_from("<I", data, at)
            at += 4
        if at + size > len(data):
            raise ValueError(f"a record (tag {tag}) runs past the end of its stream")
        record = _Record(tag, level, data[at : at + size])
        at += size
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else roots).append(record)
        stack.append(record)
    return roots


def _flat(records: list[_Record]) -> Iterator[_Record]:
    for record in records:
        yield record
        yield from _flat(record.children)


def _doc_info(data: bytes) -> _Styles:
    levels: list[int] = []
    chars: list[tuple[int, bool]] = []
    for record in _flat(_records(data)):
        if record.tag == _CHAR_SHAPE and len(record.data) >= 50:
            height, props = struct.unpack_from("<iI", record.data, 42)
            chars.append((height, bool(props & _BOLD)))
        elif record.tag == _STYLE and len(record.data) >= 2:
            (length,) = struct.unpack_from("<H", record.data, 0)
            name = record.data[2 : 2 + 2 * length].decode("utf-16-le", errors="replace")
            match = STYLE_LEVEL.search(name)
            levels.append(int(match.group(1)) if match else 0)
    return _Styles(levels, chars)


def _section_paragraphs(data: bytes, styles: _Styles) -> Iterator[SetParagraph]:
    for record in _records(data):
        if record.tag == _PARA_HEADER:
            yield from _paragraph(record, styles)


def _paragraph(header: _Record, styles: _Styles) -> Iterator[SetParagraph]:
    """A paragraph's text, split where a table or a drawing object stands in it, then its notes."""
    style = header.data[10] if len(header.data) > 10 else 0
    level = styles.levels[style] if style < len(styles.levels) else 0
    text = next((r.data for r in header.children if r.tag == _PARA_TEXT), b"")
    shape_data = next((r.data for r in header.children if r.tag == _PARA_CHAR_SHAPE), b"")
    runs = [struct.unpack_from("<II", shape_data, i) for i in range(0, len(shape_data) - 7, 8)]
    starts = [start for start, _ in runs]
    controls = iter(r for r in header.children if r.tag == _CTRL_HEADER)
    notes: list[SetParagraph] = []
    pieces: list[int] = []
    shapes: set[int] = set()

    def flush() -> Iterator[SetParagraph]:
        line = clean_text(array("H", pieces).tobytes().decode("utf-16-le", errors="replace"))
        if line:
            set_in = [styles.chars[s] if s < len(styles.chars) else (0, False) for s in shapes] or [(0, False)]
            yield SetParagraph(line, level, max(h for h, _ in set_in), all(b for _, b in set_in))
        pieces.clear()
        shapes.clear()

    units = array("H", text[: len(text) // 2 * 2])
    at = 0
    while at < len(units):
        code = units[at]
        if code >= 32:
            pieces.append(code)
            if code != 0x20 and runs:
                shapes.add(runs[max(bisect.bisect_right(starts, at) - 1, 0)][1])
            at += 1
            continue
        if code in _AS_TEXT:
            pieces.append(ord(_AS_TEXT[code]))
        if code in _EXTENDED:
            control = next(controls, None)
            kind = control.data[:4][::-1].decode("latin-1") if control is not None else ""
            if control is not None and kind in (_TABLE_ID, _SHAPE_ID):
                inside = _table(control, styles) if kind == _TABLE_ID else list(_list_paragraphs(control, styles))
                if inside:  # a picture or an empty shape does not break the sentence around it
                    yield from flush()
                    yield from inside
            elif control is not None and kind in _NOTE_IDS:
                notes.extend(_list_paragraphs(control, styles))
            # Anything else (section and column definitions, headers and footers, fields, hidden comments,
            # automatic numbers, bookmarks) is layout or instructions, not body text.
        at += 1 if code in _ONE_WCHAR else 8
    yield from flush()
    yield from notes


def _list_paragraphs(control: _Record, styles: _Styles) -> Iterator[SetParagraph]:
    """Paragraphs a control holds (text boxes, captions, notes, grouped objects), in order."""
    for child in control.children:
        if child.tag == _PARA_HEADER:
            yield from _paragraph(child, styles)
        elif child.tag != _CTRL_HEADER:
            yield from _list_paragraphs(child, styles)


def _table(control: _Record, styles: _Styles) -> list[SetParagraph]:
    """A table's cells grouped into rows by their row address (each cell's LIST_HEADER names it)."""
    caption: list[SetParagraph] = []
    rows: dict[int, list[list[SetParagraph]]] = {}
    cell: list[SetParagraph] | None = None
    seen_table = False
    for child in control.children:
        if child.tag == _TABLE:
            seen_table = True
        elif child.tag == _LIST_HEADER and seen_table:
            row = struct.unpack_from("<H", child.data, 10)[0] if len(child.data) >= 12 else len(rows)
            cell = []
            rows.setdefault(row, []).append(cell)
        elif child.tag == _PARA_HEADER:
            (cell if cell is not None else caption).extend(_paragraph(child, styles))
    return caption + table_paragraphs([rows[r] for r in sorted(rows)])


def _preview_paragraphs(path: Path, preview: bytes) -> list[SetParagraph]:
    """The preview text, when the body yields nothing: its first pages only, table cells marked with <>."""
    lines = [clean_text(line.strip("<> ")) for line in preview.decode("utf-16-le", errors="replace").splitlines()]
    paragraphs = [SetParagraph(line) for line in lines if line]
    if not paragraphs:
        raise UnreadableDocumentError(path, "the document has no text", "글자가 없는 문서예요")
    log.warning("%s: no body text could be read; using the preview (PrvText), which holds only the first pages", path)
    return paragraphs
