"""Headings and title from how a word processor's paragraphs are set (HWP and HWPX share this).

A reader turns its format into :class:`SetParagraph` values (text, outline level from the style, character
height, bold, whether it sits in a table); this module decides which are the title and headings, cleans the
text, and lays tables out row by row.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from knowledge.domain.document import Section
from knowledge.korean.text import normalize

# A line that reads like a heading in Korean public documents.
_HEADING_LINE = re.compile(r"^(제\s*\d+\s*[장절관조]|[0-9]{1,2}\.(?!\d)|[IVX]{1,4}\.|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]|[가-하]\.|[□■◆◇▣【])\s*\S")
HEADING_MAX_CHARS = 40
# Where a printed title is looked for (first paragraphs) and how long it may be.
_TITLE_WITHIN = 20
_TITLE_MAX_CHARS = 100
# Bold lines that start like this are notes, not headings ("※ 현장 사진 별도 배포 예정").
_NOTE_MARKS = ("※", "*", "주)", "-", "·")
STYLE_LEVEL = re.compile(r"(?:heading|제목|개요)\s*(\d)", re.IGNORECASE)
# Control characters (tab and line break become spaces first), private-use characters (font-specific
# symbols that show as boxes anywhere else), the object replacement character and unpaired surrogates.
_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ue000-\uf8ff\ufffc\ufffd\ud800-\udfff]|[\U000f0000-\U0010ffff]")
CELL_SEPARATOR = " | "


def clean_text(text: str) -> str:
    """Text as a reader may show it: no control or private-use characters, whitespace runs as one space.

    Also in the one form retrieval analyzes (NFKC: "｢누리｣" -> "「누리」"), so a title matches its chunks' headings.
    """
    return " ".join(normalize(_UNWANTED.sub("", text.replace("\t", " ").replace("\n", " "))).split())


def heading_level(line: str) -> int:
    """1 for chapter-like lines ("제1장", "Ⅰ."), 2 for numbered ("1."), 3 for the rest, 0 for body text."""
    if len(line) > HEADING_MAX_CHARS or line.endswith((".", "다", "요", ",")) or not _HEADING_LINE.match(line):
        return 0
    if re.match(r"^(제\s*\d+\s*[장관]|[IVX]+\.|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])", line):
        return 1
    return 2 if re.match(r"^([0-9]{1,2}\.|제\s*\d+\s*[절조])", line) else 3


@dataclass(frozen=True)
class SetParagraph:
    """A paragraph's text and how it is set: outline level from its style, character height (1/100 pt), bold."""

    text: str
    style_level: int = 0
    height: int = 0
    bold: bool = False
    in_table: bool = False


def table_paragraphs(rows: Sequence[Sequence[Sequence[SetParagraph]]]) -> list[SetParagraph]:
    """A table in reading order: a row of several cells becomes one line ("구분 | 지원 내용 | 금액").

    A row with one filled cell (a boxed headline, a one-column layout table) keeps its paragraphs as they are,
    so a title set in a box is still found; inside a table of several columns they count as table text.
    """
    multi_column = any(sum(1 for cell in row if cell) > 1 for row in rows)
    out: list[SetParagraph] = []
    for row in rows:
        cells = [cell for cell in row if cell]
        if len(cells) == 1:
            out.extend(replace(p, in_table=p.in_table or multi_column) for p in cells[0])
        elif cells:
            parts = [p for cell in cells for p in cell]
            out.append(
                SetParagraph(
                    text=CELL_SEPARATOR.join(" ".join(p.text for p in cell) for cell in cells),
                    height=max(p.height for p in parts),
                    bold=False,
                    in_table=True,
                )
            )
    return out


def _body_height(paragraphs: Sequence[SetParagraph]) -> int:
    """The character height most of the text is set in (0 when the file does not say)."""
    weights: Counter[int] = Counter()
    for p in paragraphs:
        weights[p.height] += len(p.text)
    return weights.most_common(1)[0][0]


def title_paragraph(paragraphs: Sequence[SetParagraph]) -> int | None:
    """The index of the title as printed: near the start, in larger type than the body, more than one word.

    An outline style below "개요 1" does not stop it: press release templates set their headline box in "개요 3".
    """
    body = _body_height(paragraphs)
    if not body:
        return None
    candidates = [
        (p.height, -i)
        for i, p in enumerate(paragraphs[:_TITLE_WITHIN])
        if p.height > body
        and len(p.text.split()) > 1
        and len(p.text) <= _TITLE_MAX_CHARS
        and (p.style_level <= 1 or p.height > body)
        and CELL_SEPARATOR not in p.text
    ]
    return -max(candidates)[1] if candidates else None


def set_sections(paragraphs: Sequence[SetParagraph]) -> tuple[str | None, list[Section]]:
    """The printed title (if any) and the sections, headings levelled.

    Headings come from outline styles ("개요 n"), else from how the text is set: the paragraph in the largest
    type near the start is the title (a title set over two lines in the same type is one title), lines that
    read like headings ("1.", "□", "제2장") and short bold lines at body size are section headings.
    """
    body = _body_height(paragraphs)
    title_at = title_paragraph(paragraphs)
    sections: list[Section] = []
    title: str | None = None
    in_lead = False  # right under the title, still in larger type
    after_bold_heading = False
    for i, p in enumerate(paragraphs):
        joined = f"{sections[-1].text} {p.text}" if sections else ""
        if (
            title_at is not None
            and i == title_at + 1
            and (p.height, p.bold) == (paragraphs[title_at].height, paragraphs[title_at].bold)
            and not heading_level(p.text)
            and len(joined) <= _TITLE_MAX_CHARS
        ):
            sections[-1] = Section(text=joined, level=1)  # the title set over two lines
            title = joined
            continue
        bold_heading = (
            bool(body)
            and p.bold
            and not p.in_table
            and not p.style_level
            and not heading_level(p.text)
            and p.height >= body
            and len(p.text) <= HEADING_MAX_CHARS + 20
            and not p.text.startswith(_NOTE_MARKS)
            and (title_at is None or i > title_at)
        )
        if bold_heading and after_bold_heading and len(joined) <= _TITLE_MAX_CHARS:
            sections[-1] = Section(text=joined, level=2)  # one heading set over two lines
            continue
        in_lead = in_lead and p.height > body and not heading_level(p.text)
        if i == title_at:
            level, title, in_lead = 1, p.text, True
        elif in_lead:
            level = 0  # a press release's sub-headlines right under its headline are its lead, not sections
        elif p.style_level:
            level = p.style_level
        elif p.in_table:
            level = 0
        else:
            level = heading_level(p.text) or (2 if bold_heading else 0)
        after_bold_heading = bold_heading
        sections.append(Section(text=p.text, level=level))
    return title, sections
