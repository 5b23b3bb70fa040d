"""What the bot says: the text, its sources, how sure it is and how it was made (the mode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.domain.source import Source

Mode = Literal["faq", "generated", "none"]


@dataclass(frozen=True)
class Answer:
    """What the bot says, where it comes from, and how sure it is."""

    text: str
    sources: tuple[Source, ...]
    confidence: float
    mode: Mode
    doc_id: str | None = None
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    fallback: str = ""
    """Why a generated answer fell back to passage sentences: timeout, ungrounded, model_error ("" if it did not)."""
