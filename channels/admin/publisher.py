"""Publisher: writes what the admin publishes into the search index every answering process reads.

The embedding model and the store are built on the first publish, not at app start, so the web app starts
fast and pages that never publish never load a model. The embedded store is one SQLite file: the action
server sees each write at its next search (it reloads on ``PRAGMA data_version``), so a publish reaches
citizens without a restart; Weaviate is shared by design.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from langchain_core.embeddings import Embeddings

from knowledge.domain.document import LongDocument
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import IngestReport, document_records, ingest
from knowledge.retrieval.records import KnowledgeStore
from knowledge.settings import KnowledgeSettings

Parts = tuple[KnowledgeStore, Embeddings]
logger = logging.getLogger(__name__)


def build_parts(settings: KnowledgeSettings) -> Callable[[], Parts]:
    """A factory that builds the configured embeddings and store (imports the heavy parts only when called)."""

    def build() -> Parts:
        from knowledge.backends import build_embeddings, build_store
        from knowledge.korean.analyzer import make_analyzer

        embeddings = build_embeddings(settings.embedding)
        analyzer = make_analyzer(settings.analyzer)
        store = build_store(settings, embeddings, analyzer)
        # Load everything a publish needs now (the model's passage path, the analyzer the keyword index
        # uses): left to the first publish, loading Kiwi alone took ~10 s of a 15 s publish on a busy box.
        embeddings.embed_documents(["게시 준비"])
        analyzer.morphemes("기초연금 게시 준비")
        return store, embeddings

    return build


class Publisher:
    """Publish and withdraw FAQs and documents in the search index (thread-safe; parts built lazily)."""

    def __init__(self, parts: Callable[[], Parts]) -> None:
        """``parts`` builds (store, embeddings) on first use: :func:`build_parts` in the app, fakes in tests."""
        self._build = parts
        self._parts: Parts | None = None
        self._lock = threading.Lock()
        self._warming = threading.Event()
        self.last_report: IngestReport | None = None

    @classmethod
    def from_settings(cls, settings: KnowledgeSettings) -> Publisher:
        """The publisher of a process with these knowledge settings."""
        return cls(build_parts(settings))

    @property
    def loaded(self) -> bool:
        """Whether the model and store have been built yet."""
        return self._parts is not None

    def warm_up_in_background(self) -> None:
        """Build the parts in a background thread (an editor is at work: a publish will likely follow)."""
        if self._parts is None and not self._warming.is_set():
            self._warming.set()
            threading.Thread(target=self._warm, name="publisher-warm-up", daemon=True).start()

    def _warm(self) -> None:
        try:
            self.parts()
        except Exception:  # the publish that needs them will raise it to the person who asked
            logger.exception("could not prepare the search index for publishing")
            self._warming.clear()

    def parts(self) -> Parts:
        """The store and embeddings, built on first call."""
        with self._lock:
            if self._parts is None:
                self._parts = self._build()
            return self._parts

    def publish(self, entries: Sequence[FaqEntry]) -> None:
        """Add or replace FAQ entries in the index (unchanged ones are skipped by content hash)."""
        if not entries:
            return
        store, embeddings = self.parts()
        with self._lock:
            self.last_report = ingest(store, embeddings, list(entries))

    def unpublish(self, entry_ids: Iterable[str]) -> None:
        """Remove FAQ entries from the index."""
        ids = sorted(set(entry_ids))
        if ids:
            store, _ = self.parts()
            with self._lock:
                store.delete(ids)

    def publish_document(self, document: LongDocument, disabled_chunks: set[int]) -> int:
        """Replace a document's chunks in the index, leaving out disabled ones; returns the chunks indexed."""
        store, embeddings = self.parts()
        records = [r for r in document_records([document], embeddings) if _chunk_index(r.id) not in disabled_chunks]
        with self._lock:
            if records:
                store.upsert(records)  # replaces the document's old chunks in one transaction
            else:
                store.delete([document.id])
        return len(records)

    def remove_document(self, doc_id: str) -> None:
        """Remove a document's chunks from the index."""
        store, _ = self.parts()
        with self._lock:
            store.delete([doc_id])


def _chunk_index(record_id: str) -> int:
    """The chunk number of a document record id (``<doc>#c<n>``)."""
    return int(record_id.rsplit("#c", 1)[1])


__all__ = ["Parts", "Publisher", "build_parts"]
