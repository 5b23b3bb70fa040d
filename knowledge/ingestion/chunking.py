"""Korean sentence-aware chunking of long documents that keeps each chunk with its headings.

A chunk never crosses a heading: the section it belongs to is carried as its heading path and is
embedded and indexed with it ("기초연금 안내 > 2. 신청 방법 > 준비 서류" + text), so a chunk that says
"신분증과 통장 사본을 가져오세요" is still found by "기초연금 서류". Chunks are packed from whole
sentences up to ``max_chars``; one sentence of overlap keeps a fact that spans two chunks findable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.korean.text import normalize

# Sentence ends: final punctuation before a space ("~해요. 다음"), or a line break. A period inside a
# number ("2.1%") or after a list number ("1. 신청") is not an end.
_SENTENCE_END = re.compile(r"(?<=[!?。？！…])\s+|(?<=[^\d\s][.])\s+|\n+")
# A line that starts a list item starts a new sentence even without final punctuation.
_BULLET = re.compile(r"\s+(?=(?:[○●□■◆◇▶※·•]|-\s|\d{1,2}[.)]\s|[가-하][.)]\s))")
# Pieces this short ("1.", "가.") belong to the next sentence.
_MIN_SENTENCE = 4


@dataclass(frozen=True)
class Block:
    """A unit read from a document: a heading (``level`` >= 1) or a paragraph (``level`` 0)."""

    text: str
    level: int = 0
    page: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough to embed, with the headings it sits under."""

    index: int
    headings: tuple[str, ...]
    text: str
    page: int | None = None

    def heading_path(self) -> str:
        """"장 > 절 > 항" as one line (empty when the chunk sits under no heading)."""
        return " > ".join(self.headings)


def split_sentences(text: str) -> list[str]:
    """Split Korean text into sentences at final punctuation, line breaks and list bullets."""
    pieces: list[str] = []
    for line in text.splitlines():
        for item in _BULLET.split(line):
            pieces.extend(p.strip() for p in _SENTENCE_END.split(item) if p.strip())
    sentences: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}".strip() if carry else piece
        if len(piece) < _MIN_SENTENCE:
            carry = piece
            continue
        carry = ""
        sentences.append(piece)
    if carry:
        if sentences:
            sentences[-1] = f"{sentences[-1]} {carry}"
        else:
            sentences.append(carry)
    return sentences


def _hard_split(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than a chunk, cut at spaces (or anywhere, for text without spaces)."""
    out: list[str] = []
    rest = sentence
    while len(rest) > max_chars:
        cut = rest.rfind(" ", 0, max_chars)
        cut = cut if cut > max_chars // 2 else max_chars
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


def chunk_blocks(blocks: Iterable[Block], *, max_chars: int = 500, overlap: int = 1) -> list[Chunk]:
    """Pack paragraphs into chunks of whole sentences, restarting at every heading.

    Args:
        blocks: headings and paragraphs in reading order.
        max_chars: longest chunk text (the heading path comes on top).
        overlap: sentences repeated at the start of the next chunk of the same section.
    """
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    chunks: list[Chunk] = []
    headings: list[tuple[int, str]] = []
    current: list[str] = []
    page: int | None = None

    def emit() -> None:
        if current:
            chunks.append(Chunk(len(chunks), tuple(h for _, h in headings), " ".join(current), page))

    for block in blocks:
        text = normalize(block.text)
        if not text:
            continue
        if block.level > 0:
            emit()
            current = []
            headings = [(lvl, h) for lvl, h in headings if lvl < block.level] + [(block.level, " ".join(text.split()))]
            page = block.page
            continue
        if not current:
            page = block.page
        for sentence in split_sentences(text):
            for piece in _hard_split(sentence, max_chars):
                if current and len(" ".join([*current, piece])) > max_chars:
                    emit()
                    kept = current[-overlap:] if overlap else []
                    current = kept if len(" ".join([*kept, piece])) <= max_chars else []
                    page = block.page
                current.append(piece)
    emit()
    return chunks
