"""Embedding backends: the Ollama path against its documented /api/embed protocol, and focused queries."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.backends import build_embeddings, embedding_dim
from knowledge.ingestion.ingest import index_id
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings, FocusedQueryEmbeddings, as_matrix, as_vector, model_id_of
from knowledge.settings import EmbeddingSettings
from tests.unit.ollama_fake import FakeOllama


def test_ollama_backend_embeds_in_batches_and_names_its_model(ollama: FakeOllama) -> None:
    embeddings = build_embeddings(EmbeddingSettings(backend="ollama", ollama_model="bge-m3", ollama_host=ollama.url))
    assert ollama.requests == []  # building it sends nothing
    assert embedding_dim(embeddings) == 8
    phrasings = as_matrix(embeddings, ["기초연금 얼마", "노인연금 금액", "아동수당"], as_queries=True)
    assert phrasings.shape == (3, 8) and np.allclose(np.linalg.norm(phrasings, axis=1), 1.0)
    embeds = [r for r in ollama.requests if r["path"] == "/api/embed"]
    assert embeds[-1]["model"] == "bge-m3" and embeds[-1]["input"] == ["기초연금 얼마", "노인연금 금액", "아동수당"]
    assert model_id_of(embeddings) == "OllamaEmbeddings:bge-m3"
    assert index_id(embeddings).startswith("OllamaEmbeddings:bge-m3#")  # a different index id than e5's


def test_focused_queries_leave_out_who_the_question_is_about(analyzer: KiwiAnalyzer, embeddings: E5Embeddings) -> None:
    focused = FocusedQueryEmbeddings(embeddings, analyzer)
    assert model_id_of(focused) == model_id_of(embeddings)  # same index, same document vectors
    same = as_vector(focused, "울엄마 66살인데 기초연금 받을수있음") @ as_vector(embeddings, "66살인데 기초연금 받을수있음")
    assert same == pytest.approx(1.0, abs=1e-5)
    only_relative = as_vector(focused, "엄마") @ as_vector(embeddings, "엄마")
    assert only_relative == pytest.approx(1.0, abs=1e-5)  # nothing else to embed: kept as is
    passages = as_matrix(focused, ["우리 엄마 기초연금"], as_queries=True)
    assert passages[0] @ as_vector(embeddings, "우리 엄마 기초연금") == pytest.approx(1.0, abs=1e-5)  # indexing is unchanged


def test_query_terms_repair_typos_and_drop_who_words(analyzer: KiwiAnalyzer) -> None:
    from knowledge.korean.analyzer import index_terms, query_terms

    assert "생계급여" in query_terms(analyzer, "생게급여 대상자 조건")  # Kiwi's typo model, queries only
    assert "생계급여" not in index_terms(analyzer, "생게급여 대상자 조건")
    terms = query_terms(analyzer, "울엄마 66살인데 제가 기초연금 받을수있음")
    assert "엄마" not in terms and "울" not in terms and "저" not in terms
    assert {"66살", "기초연금"} <= set(terms)


def test_counted_people_become_one_term(analyzer: KiwiAnalyzer) -> None:
    from knowledge.korean.analyzer import index_terms

    for text in ("네 식구 중위소득", "4인가구 중위소득", "가족 4명 중위소득", "4인 가구 중위소득"):
        assert "4인" in index_terms(analyzer, text), text
    assert "6인" in index_terms(analyzer, "식구가 여섯명인데")
