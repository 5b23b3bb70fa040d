"""What a search returns: a ranked document with its scores, and the filters every store applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class SearchFilter:
    """Typed filters every store applies before ranking."""

    tenants: tuple[str, ...] = ("national",)
    categories: tuple[str, ...] = ()
    on_date: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Hit:
    """A ranked document with the scores that ranked it.

    ``dense`` is the cosine similarity of the document's closest record (the scale the answer
    service's confidence bar uses); ``keyword`` its raw BM25 score; ``payload`` the payload of the
    record that matched best (for a long document: the chunk).
    """

    doc_id: str
    score: float
    dense: float
    keyword: float
    payload: dict[str, Any]
