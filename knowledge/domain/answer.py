"""What the bot says: the text, its sources, how sure it is and how it was made (the mode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.domain.decision import DecisionRecord
from knowledge.domain.source import Source

Mode = Literal["faq", "extractive", "generated", "none"]
"""faq: a curated entry as written; extractive: sentences copied from a passage (a document, or when the
model is absent, late or unreliable); generated: composed by the model from passages and checked; none:
an honest "cannot confirm"."""


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
    """Why a model answer fell back to passage sentences: timeout, ungrounded, model_error ("" if it did not)."""
    decision: DecisionRecord | None = field(default=None, compare=False, repr=False)
    """How the answer was chosen (None for fixed messages such as the crisis reply)."""
