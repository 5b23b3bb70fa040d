"""What every store holds: records, and the store protocol (filters and hits are domain types).

A document (an FAQ entry, or one long file) is written as several records: each phrasing of an FAQ
question and each chunk of a file is embedded on its own; the keyword index sees a document's
fields (question, alternative phrasings, answer; or heading and chunk text) with BM25F weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from knowledge.domain.hit import Hit, SearchFilter


@dataclass(frozen=True)
class KeywordFields:
    """The text the keyword index sees for one record, by field (weights in :mod:`knowledge.retrieval.ranking`)."""

    title: str = ""
    alternatives: str = ""
    body: str = ""


@dataclass(frozen=True)
class Record:
    """One searchable piece of a document: a phrasing of an FAQ question, or a text chunk.

    ``keywords`` is set on the records that the keyword index should see (for an FAQ, one record
    carries the question, all phrasings and the answer); records without it are found by vector only.
    """

    id: str
    doc_id: str
    text: str
    vector: np.ndarray
    payload: dict[str, Any]
    tenant: str = "national"
    kind: str = "faq"
    category: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    content_hash: str = ""
    keywords: KeywordFields | None = None


class StoreMismatchError(RuntimeError):
    """The index was built with another embedding model; it must be rebuilt, never mixed."""


class KnowledgeStore(Protocol):
    """What the answer service and ingestion need from a store."""

    def upsert(self, records: Sequence[Record]) -> None:
        """Replace all records of the documents in ``records`` atomically."""
        ...

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents; returns how many records went."""
        ...

    def search(self, query: str, vector: np.ndarray, *, alpha: float, k: int, where: SearchFilter) -> list[Hit]:
        """Hybrid search: ``alpha`` 1 is pure vector, 0 pure keyword."""
        ...

    def count(self, tenant: str | None = None) -> int:
        """Number of documents (optionally of one tenant)."""
        ...

    def doc_hashes(self) -> dict[str, str]:
        """Content hash per document id, for incremental ingestion."""
        ...

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The payload of one document, or None."""
        ...
