"""Ingestion: turn FAQ entries and long documents into store records, re-embedding only what changed.

Callers validate every file first (:func:`knowledge.ingestion.loaders.load_knowledge`); one run then writes
all changed documents with a single ``upsert`` (one transaction in the embedded store), so a run
never leaves a half-ingested file behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.domain.document import DocumentChunk, LongDocument
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.chunking import Block, chunk_blocks
from knowledge.retrieval.embeddings import as_matrix, model_id_of
from knowledge.retrieval.records import KeywordFields, KnowledgeStore, Record

# How records are built, analyzed and embedded; part of the index id, so a change forces a rebuild.
INDEX_SCHEME = "faq-phrasings-bm25f-v3"
# Longest chunk of a long document, in characters (e5-small reads 512 tokens; Korean ~1-2 chars each).
CHUNK_CHARS = 500


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
    records: int = 0

    def __str__(self) -> str:
        """One line for operators."""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, removed {self.removed}"
            f" ({self.records} records written)"
        )


def faq_texts(entry: FaqEntry) -> list[tuple[str, str]]:
    """(record suffix, text) pairs: each phrasing of the question, and the question with its answer."""
    texts = [("q", entry.question)]
    texts += [(f"alt{i}", alt) for i, alt in enumerate(entry.alternatives) if alt.strip()]
    texts.append(("answer", f"{entry.question}\n{entry.answer}"))
    return texts


def faq_records(entries: Sequence[FaqEntry], embeddings: Embeddings) -> list[Record]:
    """Records for entries, embedded in one batch; the answer record carries the keyword fields."""
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
            keywords=(
                KeywordFields(title=entry.question, alternatives="\n".join(entry.alternatives), body=entry.answer)
                if suffix == "answer"
                else None
            ),
        )
        for (entry, suffix, text), vector in zip(pairs, vectors, strict=True)
    ]


def document_payload(document: LongDocument, heading: str, text: str, index: int, page: int | None) -> dict[str, Any]:
    """What a hit on a chunk carries (a :class:`DocumentChunk`): the chunk, where it sits, the document's source."""
    chunk = DocumentChunk(
        doc_id=document.id,
        title=document.title,
        heading=heading,
        text=text,
        chunk=index,
        page=page,
        file_name=document.file_name,
        category=document.category,
        tenant=document.tenant,
        source=document.source,
        updated_at=document.updated_at,
        valid_from=document.valid_from,
        valid_until=document.valid_until,
    )
    return chunk.model_dump(mode="json")


def document_chunks(document: LongDocument) -> list[tuple[str, str, int, int | None]]:
    """A document's chunks as they are indexed: (heading path with the title first, text, index, page)."""
    planned: list[tuple[str, str, int, int | None]] = []
    blocks = [Block(s.text, s.level, s.page) for s in document.sections]
    for chunk in chunk_blocks(blocks, max_chars=CHUNK_CHARS):
        headings = chunk.headings[1:] if chunk.headings[:1] == (document.title,) else chunk.headings
        planned.append((" > ".join((document.title, *headings)), chunk.text, chunk.index, chunk.page))
    return planned


def document_records(documents: Sequence[LongDocument], embeddings: Embeddings) -> list[Record]:
    """Chunk documents (headings kept with their text) and embed every chunk as a passage."""
    planned = [(document, *chunk) for document in documents for chunk in document_chunks(document)]
    if not planned:
        return []
    vectors = as_matrix(embeddings, [f"{heading}\n{text}" for _, heading, text, _, _ in planned])
    return [
        Record(
            id=f"{document.id}#c{index}",
            doc_id=document.id,
            text=f"{heading}\n{text}",
            vector=vector,
            payload=document_payload(document, heading, text, index, page),
            tenant=document.tenant,
            kind="document",
            category=document.category,
            valid_from=document.valid_from,
            valid_until=document.valid_until,
            content_hash=document.content_hash(),
            keywords=KeywordFields(title=heading, body=text),
        )
        for (document, heading, text, index, page), vector in zip(planned, vectors, strict=True)
    ]


def ingest(
    store: KnowledgeStore,
    embeddings: Embeddings,
    faqs: Sequence[FaqEntry] = (),
    documents: Sequence[LongDocument] = (),
    *,
    prune: bool = False,
) -> IngestReport:
    """Upsert changed FAQs and documents in one write; with ``prune``, remove documents no longer given."""
    known = store.doc_hashes()
    changed_faqs = [e for e in faqs if known.get(e.id) != e.content_hash()]
    changed_docs = [d for d in documents if known.get(d.id) != d.content_hash()]
    records = faq_records(changed_faqs, embeddings) + document_records(changed_docs, embeddings)
    if records:
        store.upsert(records)
    removed = 0
    if prune:
        gone = set(known) - {e.id for e in faqs} - {d.id for d in documents}
        removed = len(gone)
        if gone:
            store.delete(sorted(gone))
    changed = [e.id for e in changed_faqs] + [d.id for d in changed_docs]
    added = sum(1 for doc_id in changed if doc_id not in known)
    return IngestReport(
        added=added,
        updated=len(changed) - added,
        unchanged=len(faqs) + len(documents) - len(changed),
        removed=removed,
        records=len(records),
    )


def ingest_faqs(
    store: KnowledgeStore, embeddings: Embeddings, entries: Sequence[FaqEntry], *, prune: bool = False
) -> IngestReport:
    """Upsert changed FAQ entries; with ``prune``, remove documents no longer in ``entries``."""
    return ingest(store, embeddings, entries, prune=prune)
