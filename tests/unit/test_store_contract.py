"""One behaviour suite for every store: the embedded SQLite store and Weaviate (against a protocol-level fake)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from knowledge.domain.document import LongDocument, Section
from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import SearchFilter
from knowledge.domain.source import SourceRef
from knowledge.ingestion.ingest import document_records, faq_records, index_id, ingest, ingest_faqs
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings, as_vector
from knowledge.retrieval.records import KnowledgeStore
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.retrieval.weaviate_store import WeaviateStore, connect_weaviate
from knowledge.settings import StoreSettings
from tests.unit.weaviate_fake import FakeWeaviate

BOTH = SearchFilter(tenants=("national", "yesi"), on_date=date(2026, 6, 1))


@pytest.fixture(scope="module")
def fake_weaviate(analyzer: KiwiAnalyzer) -> Iterator[FakeWeaviate]:
    with FakeWeaviate(analyzer) as fake:
        yield fake


@pytest.fixture(params=["sqlite", "weaviate"])
def any_store(
    request: pytest.FixtureRequest, tmp_path: Path, analyzer: KiwiAnalyzer, embeddings: E5Embeddings
) -> Iterator[KnowledgeStore]:
    if request.param == "sqlite":
        store: SqliteStore | WeaviateStore = SqliteStore(tmp_path / "kb.sqlite3", analyzer, index_id(embeddings), 384)
    else:
        fake: FakeWeaviate = request.getfixturevalue("fake_weaviate")
        settings = StoreSettings(
            backend="weaviate", weaviate_url=f"http://127.0.0.1:{fake.http_port}", weaviate_grpc_port=fake.grpc_port
        )
        store = WeaviateStore(
            connect_weaviate(settings), collection=f"T{uuid.uuid4().hex[:12]}", model_id=index_id(embeddings), dim=384, analyzer=analyzer
        )
    yield store
    store.close()


def ids(store: KnowledgeStore, embeddings: E5Embeddings, text: str, *, alpha: float = 0.5, where: SearchFilter = BOTH) -> list[str]:
    return [h.doc_id for h in store.search(text, as_vector(embeddings, text), alpha=alpha, k=5, where=where)]


def test_hybrid_keyword_and_dense_each_find_the_entry(any_store, embeddings, subset_entries) -> None:
    ingest_faqs(any_store, embeddings, subset_entries)
    assert ids(any_store, embeddings, "기초연금 얼마 받을 수 있어요?")[0] == "basic-pension-amount"
    assert ids(any_store, embeddings, "아동수당 금액", alpha=0.0)[0] == "child-allowance-amount"
    assert ids(any_store, embeddings, "애기 수당 한달에 얼마 줘요", alpha=1.0)[0] == "child-allowance-amount"


def test_hit_carries_scores_and_the_payload(any_store, embeddings, subset_entries) -> None:
    ingest_faqs(any_store, embeddings, subset_entries)
    hit = any_store.search("129 전화번호", as_vector(embeddings, "129 전화번호"), alpha=0.5, k=3, where=BOTH)[0]
    assert hit.doc_id == "contact-129" and hit.payload["id"] == "contact-129"
    assert 0.8 < hit.dense <= 1.0 and hit.keyword > 0 and 0 < hit.score <= 1.0
    assert FaqEntry.model_validate(hit.payload).id == "contact-129"


def test_alpha_out_of_range_is_rejected(any_store) -> None:
    with pytest.raises(ValueError, match="alpha"):
        any_store.search("x", np.zeros(384, dtype=np.float32), alpha=1.5, k=5, where=BOTH)


def test_edit_replaces_the_documents_records(any_store, embeddings, subset_entries) -> None:
    ingest_faqs(any_store, embeddings, subset_entries)
    amount = next(e for e in subset_entries if e.id == "basic-pension-amount")
    edited = amount.model_copy(
        update={"answer": "2026년 기초연금은 월 최대 349,700원이에요. 새 안내문이에요.", "alternatives": amount.alternatives[:2]}
    )
    report = ingest_faqs(any_store, embeddings, [*(e for e in subset_entries if e.id != amount.id), edited])
    assert (report.updated, report.added) == (1, 0)
    assert any_store.count() == len(subset_entries)
    assert any_store.doc_hashes()["basic-pension-amount"] == edited.content_hash()
    hit = any_store.search("기초연금 최대 금액", as_vector(embeddings, "기초연금 최대 금액"), alpha=0.5, k=1, where=BOTH)[0]
    assert hit.doc_id == "basic-pension-amount" and hit.payload["answer"].endswith("새 안내문이에요.")
    assert hit.payload["alternatives"] == amount.alternatives[:2]  # the dropped phrasings' records are gone too
    dropped = amount.alternatives[3]
    assert all(h.payload["alternatives"] == amount.alternatives[:2] for h in any_store.search(
        dropped, as_vector(embeddings, dropped), alpha=1.0, k=3, where=BOTH) if h.doc_id == amount.id)


def test_delete_and_count(any_store, embeddings, subset_entries) -> None:
    ingest_faqs(any_store, embeddings, subset_entries)
    assert any_store.delete([subset_entries[0].id]) >= 2  # every record of the document
    assert any_store.get(subset_entries[0].id) is None
    assert any_store.count() == len(subset_entries) - 1
    assert subset_entries[0].id not in ids(any_store, embeddings, subset_entries[0].question)
    assert any_store.delete(["no-such-doc"]) == 0


def test_expired_entries_are_never_returned(any_store, embeddings, subset_entries) -> None:
    amount = next(e for e in subset_entries if e.id == "basic-pension-amount")
    expired = amount.model_copy(update={"id": "amount-2025", "valid_from": date(2025, 1, 1), "valid_until": date(2025, 12, 31)})
    ingest_faqs(any_store, embeddings, [expired])
    later = SearchFilter(tenants=("national",), on_date=date(2026, 11, 21))
    assert ids(any_store, embeddings, "기초연금 얼마", where=later) == []
    assert ids(any_store, embeddings, "기초연금 얼마", alpha=0.0, where=later) == []
    assert ids(any_store, embeddings, "기초연금 얼마", where=replace(later, on_date=date(2025, 6, 1))) == ["amount-2025"]


def test_tenant_and_category_filters(any_store, embeddings, subset_entries) -> None:
    records = faq_records(subset_entries, embeddings)
    any_store.upsert([replace(r, tenant="yesi") if r.doc_id == "contact-129" else r for r in records])
    assert "contact-129" not in ids(any_store, embeddings, "129", where=replace(BOTH, tenants=("national",)))
    assert ids(any_store, embeddings, "129 전화", where=replace(BOTH, tenants=("yesi",))) == ["contact-129"]
    assert any_store.count("yesi") == 1 and any_store.count() == len(subset_entries)
    category = next(e.category for e in subset_entries if e.id == "child-allowance-amount")
    only = ids(any_store, embeddings, "얼마", where=replace(BOTH, categories=(category,)))
    assert only and all(next(e.category for e in subset_entries if e.id == d) == category for d in only)


def test_failed_upsert_leaves_the_store_unchanged(any_store, embeddings, subset_entries) -> None:
    good = faq_records(subset_entries[:2], embeddings)
    any_store.upsert(good)
    bad = [replace(good[0], id="broken", doc_id="broken", vector=np.zeros(5, dtype=np.float32))]
    with pytest.raises(ValueError, match="vector shape"):
        any_store.upsert(bad)
    assert any_store.count() == 2 and any_store.get("broken") is None


def test_prune_removes_documents_no_longer_given(any_store, embeddings, subset_entries) -> None:
    ingest_faqs(any_store, embeddings, subset_entries)
    report = ingest_faqs(any_store, embeddings, subset_entries[1:], prune=True)
    assert report.removed == 1 and any_store.count() == len(subset_entries) - 1
    assert any_store.get(subset_entries[0].id) is None


def test_long_document_hit_is_its_best_chunk(any_store, embeddings, subset_entries) -> None:
    doc = LongDocument(
        id="guide-2026",
        title="예시시 복지 안내서",
        source=SourceRef(title="예시시 복지 안내서 2026", url="https://example.go.kr/guide"),
        updated_at=date(2026, 3, 2),
        tenant="yesi",
        sections=(
            Section(text="1. 무더위쉼터", level=1),
            Section(text="여름철 폭염 때는 가까운 경로당과 주민센터를 무더위쉼터로 열어요. 에어컨과 물을 준비해 두었어요."),
            Section(text="2. 장난감 도서관", level=1),
            Section(text="육아종합지원센터에서 장난감을 2주 동안 무료로 빌릴 수 있어요. 회원 가입이 필요해요."),
        ),
    )
    ingest(any_store, embeddings, subset_entries, [doc])
    hit = any_store.search("장난감 빌리는 곳", as_vector(embeddings, "장난감 빌리는 곳"), alpha=0.5, k=3, where=BOTH)[0]
    assert hit.doc_id == "guide-2026"
    assert hit.payload["kind"] == "document" and "장난감" in hit.payload["text"]
    assert hit.payload["heading"] == "예시시 복지 안내서 > 2. 장난감 도서관"
    assert hit.payload["source"]["url"] == "https://example.go.kr/guide"
    assert len(document_records([doc], embeddings)) == 2

