"""The retriever the answer chain is given: a question in, ranked hits out (filters and weights from settings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from langchain_core.embeddings import Embeddings

from knowledge.domain.hit import Hit, SearchFilter
from knowledge.korean.analyzer import KoreanAnalyzer, query_form
from knowledge.korean.text import denoise, normalize
from knowledge.retrieval.embeddings import as_vector
from knowledge.retrieval.records import KnowledgeStore
from knowledge.settings import RetrievalSettings


class Retriever:
    """Hybrid search over the deployment's tenants, keeping only what is valid on the day asked about."""

    def __init__(
        self,
        store: KnowledgeStore,
        embeddings: Embeddings,
        settings: RetrievalSettings,
        *,
        analyzer: Callable[[], KoreanAnalyzer] | None = None,
    ) -> None:
        """Keep the store, the query embedder (the one the index was built with) and the retrieval settings.

        ``analyzer`` gives the shared analyzer that respaces run-together questions; without one, questions
        are only normalized and freed of chat noise.
        """
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self._analyzer = analyzer

    def query_form(self, question: str) -> str:
        """The question as it is searched and judged: normalized, chat noise gone, respaced (idempotent)."""
        if self._analyzer is None:
            return denoise(normalize(question))
        return query_form(self._analyzer(), question)

    def search(self, question: str, *, k: int | None = None, on_date: date | None = None) -> list[Hit]:
        """The best ``k`` documents (FAQ entries or document chunks) for a question, best first."""
        text = self.query_form(question)
        if not text:
            return []
        where = SearchFilter(tenants=tuple(self.settings.tenants), on_date=on_date or date.today())
        return self.store.search(
            text,
            as_vector(self.embeddings, text),
            alpha=self.settings.alpha,
            k=k or self.settings.top_k,
            where=where,
        )
