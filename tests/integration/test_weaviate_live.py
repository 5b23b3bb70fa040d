"""The Weaviate store against a real server: runs only when WEAVIATE_URL is set.

Start one with Korean BM25 enabled, e.g.
``docker run -p 8080:8080 -p 50051:50051 -e ENABLE_TOKENIZER_KAGOME_KR=true cr.weaviate.io/semitechnologies/weaviate:1.32.0``
then ``WEAVIATE_URL=http://127.0.0.1:8080 pytest tests/integration/test_weaviate_live.py``.
Optional: WEAVIATE_GRPC_PORT (default 50051), WEAVIATE_API_KEY.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import SearchFilter
from knowledge.ingestion.ingest import faq_records, index_id, ingest_faqs
from knowledge.ingestion.seed_files import load_faq_dir
from knowledge.korean.analyzer import KiwiAnalyzer, load_user_dict
from knowledge.retrieval.embeddings import E5Embeddings, as_vector
from knowledge.retrieval.records import StoreMismatchError
from knowledge.retrieval.weaviate_store import WeaviateStore, connect_weaviate
from knowledge.settings import KnowledgeSettings, StoreSettings

pytestmark = pytest.mark.skipif(not os.environ.get("WEAVIATE_URL"), reason="set WEAVIATE_URL to test against a real Weaviate")

IDS = ("basic-pension-amount", "basic-pension-eligibility", "child-allowance-amount", "contact-129", "housing-benefit-criteria")
WHERE = SearchFilter(tenants=("national", "yesi"), on_date=date(2026, 6, 1))


def settings() -> StoreSettings:
    return StoreSettings(
        backend="weaviate",
        weaviate_url=os.environ.get("WEAVIATE_URL", ""),
        weaviate_grpc_port=int(os.environ.get("WEAVIATE_GRPC_PORT", "50051")),
        weaviate_api_key=os.environ.get("WEAVIATE_API_KEY", ""),
    )


@pytest.fixture(scope="module")
def parts() -> tuple[KiwiAnalyzer, E5Embeddings, list[FaqEntry]]:
    entries = [e for e in load_faq_dir(KnowledgeSettings().seed_dir) if e.id in IDS]
    return KiwiAnalyzer(load_user_dict()), E5Embeddings(), entries


@pytest.fixture
def store(parts: tuple[KiwiAnalyzer, E5Embeddings, list[FaqEntry]]) -> Iterator[WeaviateStore]:
    analyzer, embeddings, _ = parts
    live = WeaviateStore(
        connect_weaviate(settings()), collection=f"BokjiTest{uuid.uuid4().hex[:8]}", model_id=index_id(embeddings), dim=384, analyzer=analyzer
    )
    yield live
    live.reset()
    live.close()


def test_schema_is_created_with_korean_tokenization(store: WeaviateStore) -> None:
    store.ensure_schema()
    config = store.client.collections.get(store.name).config.get()
    tokenization = {p.name: p.tokenization.value if p.tokenization else None for p in config.properties}
    assert tokenization["title"] == "kagome_kr" and tokenization["doc_id"] == "field"
    assert config.multi_tenancy_config.enabled


def test_hybrid_search_edit_delete_and_expiry(store: WeaviateStore, parts: tuple[KiwiAnalyzer, E5Embeddings, list[FaqEntry]]) -> None:
    _, embeddings, entries = parts
    records = faq_records(entries, embeddings)
    store.upsert([replace(r, tenant="yesi") if r.doc_id == "contact-129" else r for r in records])
    assert store.count() == len(entries) and store.count("yesi") == 1
    query = "기초연금 얼마 받을 수 있어요?"
    hits = store.search(query, as_vector(embeddings, query), alpha=0.5, k=3, where=WHERE)
    assert hits[0].doc_id == "basic-pension-amount"
    assert hits[0].keyword > 0, "no BM25 score parsed from explainScore: check the server's format and kagome_kr"
    keyword_only = store.search("아동수당", as_vector(embeddings, "아동수당"), alpha=0.0, k=3, where=WHERE)
    assert keyword_only and keyword_only[0].doc_id == "child-allowance-amount"
    assert store.search("129", as_vector(embeddings, "129"), alpha=0.5, k=5, where=replace(WHERE, tenants=("yesi",)))[0].doc_id == "contact-129"

    amount = next(e for e in entries if e.id == "basic-pension-amount")
    edited = amount.model_copy(update={"answer": "2026년 기초연금은 월 최대 349,700원이에요. 새 안내문이에요."})
    ingest_faqs(store, embeddings, [*(e for e in entries if e.id != amount.id), edited])
    assert store.search(query, as_vector(embeddings, query), alpha=0.5, k=1, where=WHERE)[0].payload["answer"].endswith("새 안내문이에요.")
    assert store.doc_hashes()[amount.id] == edited.content_hash()

    later = replace(WHERE, on_date=date(2027, 6, 1))  # the 2026 entries have expired
    assert all(h.doc_id != "basic-pension-amount" for h in store.search(query, as_vector(embeddings, query), alpha=0.5, k=5, where=later))
    assert store.delete(["basic-pension-amount"]) > 0 and store.get("basic-pension-amount") is None


def test_another_model_refuses_the_collection(store: WeaviateStore) -> None:
    store.ensure_schema()
    other = WeaviateStore(connect_weaviate(settings()), collection=store.name, model_id="other#v", dim=1024)
    with pytest.raises(StoreMismatchError):
        other.ensure_schema()
    other.close()
