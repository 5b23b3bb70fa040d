from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from knowledge.analyzer import KiwiAnalyzer
from knowledge.documents import FaqEntry
from knowledge.embeddings import E5Embeddings, as_vector
from knowledge.ingest import faq_records, index_id, ingest_faqs
from knowledge.store import SearchFilter, SqliteStore, StoreMismatchError, fuse


def search(store: SqliteStore, embeddings: E5Embeddings, text: str, **kw: object) -> list[str]:
    where = kw.pop("where", SearchFilter(tenants=("national", "yesi")))
    return [h.doc_id for h in store.search(text, as_vector(embeddings, text), where=where, **kw)]  # type: ignore[arg-type]


def test_hybrid_finds_the_amount_entry(store, embeddings, subset_entries) -> None:
    ingest_faqs(store, embeddings, subset_entries)
    assert search(store, embeddings, "기초연금 얼마 받을 수 있어요?", alpha=0.7)[0] == "basic-pension-amount"


def test_keyword_only_and_dense_only_both_work(store, embeddings, subset_entries) -> None:
    ingest_faqs(store, embeddings, subset_entries)
    assert search(store, embeddings, "아동수당 금액", alpha=0.0)[0] == "child-allowance-amount"
    assert search(store, embeddings, "애기 수당 한달에 얼마 줘요", alpha=1.0)[0] == "child-allowance-amount"


def test_alpha_out_of_range_is_rejected(store, embeddings) -> None:
    with pytest.raises(ValueError, match="alpha"):
        store.search("x", np.zeros(384, dtype=np.float32), alpha=1.5)


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


def test_prune_deletes_entries_no_longer_present(store, embeddings, subset_entries) -> None:
    ingest_faqs(store, embeddings, subset_entries)
    report = ingest_faqs(store, embeddings, subset_entries[1:], prune=True)
    assert report.removed == 1
    assert store.get(subset_entries[0].id) is None
    assert store.count() == len(subset_entries) - 1


def test_expired_entries_are_never_returned(store, embeddings, subset_entries) -> None:
    amount = next(e for e in subset_entries if e.id == "basic-pension-amount")
    expired = amount.model_copy(
        update={"id": "basic-pension-amount-2025", "valid_from": date(2025, 1, 1), "valid_until": date(2025, 12, 31)}
    )
    ingest_faqs(store, embeddings, [expired])
    where = SearchFilter(tenants=("national",), on_date=date(2026, 11, 21))
    assert search(store, embeddings, "기초연금 얼마", where=where) == []
    old = SearchFilter(tenants=("national",), on_date=date(2025, 6, 1))
    assert search(store, embeddings, "기초연금 얼마", where=old) == ["basic-pension-amount-2025"]


def test_tenant_and_category_filters(store, embeddings, subset_entries) -> None:
    records = faq_records(subset_entries, embeddings)
    store.upsert([replace(r, tenant="yesi") if r.doc_id == "contact-129" else r for r in records])
    assert "contact-129" not in search(store, embeddings, "129", where=SearchFilter(tenants=("national",)))
    cat = next(e.category for e in subset_entries if e.id == "child-allowance-amount")
    only = search(store, embeddings, "얼마", where=SearchFilter(tenants=("national", "yesi"), categories=(cat,)))
    assert only and all(next(e.category for e in subset_entries if e.id == d) == cat for d in only)


def test_failed_upsert_leaves_the_store_unchanged(store, embeddings, subset_entries) -> None:
    good = faq_records(subset_entries[:2], embeddings)
    store.upsert(good)
    bad = [replace(good[0], id="broken", doc_id="broken", vector=np.zeros(5, dtype=np.float32))]
    with pytest.raises(ValueError, match="vector shape"):
        store.upsert(bad)
    assert store.count() == 2


def test_relative_score_fusion() -> None:
    fused = fuse({1: 0.9, 2: 0.8}, {2: 10.0, 3: 5.0}, alpha=0.5)
    assert fused[2][0] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert fused[1][0] == pytest.approx(0.5)
    assert fused[3][0] == pytest.approx(0.0)
    assert fuse({}, {}, 0.5) == {}
