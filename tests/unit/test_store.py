"""SQLite-specific store behaviour; the shared contract (test_store_contract.py) runs on both stores."""

from pathlib import Path

import pytest

from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import SearchFilter
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings, as_vector
from knowledge.retrieval.ranking import fuse
from knowledge.retrieval.records import StoreMismatchError
from knowledge.retrieval.sqlite_store import SqliteStore


def search(store: SqliteStore, embeddings: E5Embeddings, text: str, **kw: object) -> list[str]:
    where = kw.pop("where", SearchFilter(tenants=("national", "yesi")))
    return [h.doc_id for h in store.search(text, as_vector(embeddings, text), where=where, **kw)]  # type: ignore[arg-type]


def test_store_persists_across_reopen(tmp_path: Path, analyzer: KiwiAnalyzer, embeddings, subset_entries) -> None:
    path = tmp_path / "kb.sqlite3"
    first = SqliteStore(path, analyzer, index_id(embeddings), 384)
    ingest_faqs(first, embeddings, subset_entries)
    first.close()
    again = SqliteStore(path, analyzer, index_id(embeddings), 384)
    assert again.count() == len(subset_entries)
    assert search(again, embeddings, "129 전화번호")[0] == "contact-129"


def test_other_embedding_model_refuses_to_mix(tmp_path: Path, analyzer: KiwiAnalyzer, embeddings, subset_entries) -> None:
    path = tmp_path / "kb.sqlite3"
    ingest_faqs(SqliteStore(path, analyzer, index_id(embeddings), 384), embeddings, subset_entries[:1])
    with pytest.raises(StoreMismatchError, match="rebuild"):
        SqliteStore(path, analyzer, "OllamaEmbeddings:bge-m3#v1", 1024)
    assert SqliteStore.stored_model_id(path) == index_id(embeddings)


def test_edit_is_incremental_and_visible_to_another_open_store(
    tmp_path: Path, analyzer: KiwiAnalyzer, embeddings, subset_entries: list[FaqEntry]
) -> None:
    path = tmp_path / "kb.sqlite3"
    writer = SqliteStore(path, analyzer, index_id(embeddings), 384)
    reader = SqliteStore(path, analyzer, index_id(embeddings), 384)  # e.g. the action server
    ingest_faqs(writer, embeddings, subset_entries)
    assert search(reader, embeddings, "기초연금 최대 금액")[0] == "basic-pension-amount"
    amount = next(e for e in subset_entries if e.id == "basic-pension-amount")
    edited = amount.model_copy(update={"answer": "2026년 기초연금은 월 최대 349,700원이에요. 새 안내문이에요."})
    others = [e for e in subset_entries if e.id != "basic-pension-amount"]
    report = ingest_faqs(writer, embeddings, [*others, edited])
    assert (report.updated, report.unchanged, report.added) == (1, len(others), 0)
    hit = reader.search(
        "기초연금 최대 금액", as_vector(embeddings, "기초연금 최대 금액"), where=SearchFilter(tenants=("national",))
    )[0]
    assert hit.payload["answer"].endswith("새 안내문이에요.")


def test_relative_score_fusion() -> None:
    fused = fuse({1: 0.9, 2: 0.8}, {2: 10.0, 3: 5.0}, alpha=0.5)
    assert fused[2][0] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert fused[1][0] == pytest.approx(0.5)
    assert fused[3][0] == pytest.approx(0.0)
    assert fuse({}, {}, 0.5) == {}
