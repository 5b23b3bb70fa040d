"""Ingestion: turn FAQ entries into store records, re-embedding only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.documents import FaqEntry
from knowledge.embeddings import as_matrix, model_id_of
from knowledge.store import KnowledgeStore, Record

# How records are built and embedded; part of the index id, so a change forces a rebuild.
INDEX_SCHEME = "faq-phrasings-as-queries-v1"


def index_id(embeddings: Embeddings) -> str:
    """The id stored with an index: embedding model plus record scheme."""
    return f"{model_id_of(embeddings)}#{INDEX_SCHEME}"


@dataclass(frozen=True)
class IngestReport:
    """What an ingestion run changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def __str__(self) -> str:
        """One line for operators."""
        return f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, removed {self.removed}"


def faq_texts(entry: FaqEntry) -> list[tuple[str, str]]:
    """(record suffix, text) pairs: each phrasing of the question, and the question with its answer."""
    texts = [("q", entry.question)]
    texts += [(f"alt{i}", alt) for i, alt in enumerate(entry.alternatives) if alt.strip()]
    texts.append(("answer", f"{entry.question}\n{entry.answer}"))
    return texts


def faq_records(entries: Sequence[FaqEntry], embeddings: Embeddings) -> list[Record]:
    """Records for entries, embedded in one batch."""
    pairs = [(entry, suffix, text) for entry in entries for suffix, text in faq_texts(entry)]
    if not pairs:
        return []
    questions = [i for i, (_, suffix, _) in enumerate(pairs) if suffix != "answer"]
    answers = [i for i, (_, suffix, _) in enumerate(pairs) if suffix == "answer"]
    q_vectors = as_matrix(embeddings, [pairs[i][2] for i in questions], as_queries=True)
    a_vectors = as_matrix(embeddings, [pairs[i][2] for i in answers])
    vectors = np.zeros((len(pairs), q_vectors.shape[1] or a_vectors.shape[1]), dtype=np.float32)
    vectors[questions], vectors[answers] = q_vectors, a_vectors
    return [
        Record(
            id=f"{entry.id}#{suffix}",
            doc_id=entry.id,
            text=text,
            vector=vector,
            payload=entry.model_dump(mode="json"),
            tenant=entry.tenant,
            kind="faq",
            category=entry.category,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            content_hash=entry.content_hash(),
        )
        for (entry, suffix, text), vector in zip(pairs, vectors, strict=True)
    ]


def ingest_faqs(
    store: KnowledgeStore, embeddings: Embeddings, entries: Sequence[FaqEntry], *, prune: bool = False
) -> IngestReport:
    """Upsert changed entries; with ``prune``, remove FAQ documents no longer in ``entries``.

    Callers validate every entry before this runs (a bad file is rejected whole), so a run never
    leaves a half-ingested file behind; each entry's records are replaced atomically.
    """
    known = store.doc_hashes()
    changed = [e for e in entries if known.get(e.id) != e.content_hash()]
    if changed:
        store.upsert(faq_records(changed, embeddings))
    removed = 0
    if prune:
        gone = set(known) - {e.id for e in entries}
        removed = len(gone)
        if gone:
            store.delete(sorted(gone))
    added = sum(1 for e in changed if e.id not in known)
    return IngestReport(added=added, updated=len(changed) - added, unchanged=len(entries) - len(changed), removed=removed)
