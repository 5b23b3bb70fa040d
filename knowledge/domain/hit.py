"""What a search returns: a ranked document with its scores, and the filters every store applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from knowledge.domain.document import DocumentChunk
from knowledge.domain.faq import FaqEntry

KnowledgeItem = FaqEntry | DocumentChunk
"""What a hit carries: a curated FAQ entry or a chunk of a long document; both give a title, a body and a source."""


def item_from_payload(payload: dict[str, Any]) -> KnowledgeItem:
    """The typed item behind a stored payload (a document chunk says ``kind: document``)."""
    if payload.get("kind") == "document":
        return DocumentChunk.model_validate(payload)
    return FaqEntry.model_validate(payload)


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

    @cached_property
    def item(self) -> KnowledgeItem:
        """The FAQ entry or document chunk this hit found, validated once."""
        return item_from_payload(self.payload)

    @property
    def is_document(self) -> bool:
        """Whether the hit is a chunk of a long document rather than a curated FAQ entry."""
        return isinstance(self.item, DocumentChunk)
