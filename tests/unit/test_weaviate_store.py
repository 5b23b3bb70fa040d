"""What the Weaviate store sends over the wire (checked at the protocol boundary of a fake server)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from weaviate.proto.v1 import base_search_pb2

from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import SearchFilter
from knowledge.ingestion.ingest import faq_records, index_id, ingest_faqs
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings, as_vector
from knowledge.retrieval.records import StoreMismatchError
from knowledge.retrieval.weaviate_store import WeaviateStore, WeaviateWriteError, connect_weaviate
from knowledge.settings import StoreSettings
from tests.unit.weaviate_fake import FakeWeaviate


@pytest.fixture
def fake(analyzer: KiwiAnalyzer) -> Iterator[FakeWeaviate]:
    with FakeWeaviate(analyzer) as server:
        yield server


def settings_for(fake: FakeWeaviate, **extra: object) -> StoreSettings:
    return StoreSettings(
        backend="weaviate", weaviate_url=f"http://127.0.0.1:{fake.http_port}", weaviate_grpc_port=fake.grpc_port, **extra
    )


def make_store(fake: FakeWeaviate, embeddings: E5Embeddings, analyzer: KiwiAnalyzer, **kw: object) -> WeaviateStore:
    params: dict = {"collection": "bokjiKnowledge", "model_id": index_id(embeddings), "dim": 384, "analyzer": analyzer, **kw}
    return WeaviateStore(connect_weaviate(settings_for(fake)), **params)


def test_schema_uses_kagome_kr_for_korean_text_and_field_for_filters(fake, embeddings, analyzer) -> None:
    store = make_store(fake, embeddings, analyzer, replication_factor=3, async_replication=True)
    store.ensure_schema()
    schema = fake.schemas["BokjiKnowledge"]
    props = {p["name"]: p for p in schema["properties"]}
    for name in ("title", "alternatives", "body"):
        assert props[name]["tokenization"] == "kagome_kr" and props[name]["indexFilterable"] is False
    for name in ("doc_id", "record_id", "category", "kind", "content_hash"):
        assert props[name]["tokenization"] == "field" and props[name]["indexSearchable"] is False
    assert props["valid_from"]["dataType"] == ["date"] and props["valid_until"]["dataType"] == ["date"]
    assert props["payload"]["indexSearchable"] is False and props["payload"]["indexFilterable"] is False
    assert schema["multiTenancyConfig"] == {"enabled": True, "autoTenantCreation": True, "autoTenantActivation": True}
    assert schema["replicationConfig"]["factor"] == 3 and schema["replicationConfig"]["asyncEnabled"] is True
    assert schema["vectorConfig"]["default"]["vectorizer"] == {"none": {}}  # our vectors, no server-side model
    assert schema["vectorConfig"]["default"]["vectorIndexConfig"]["distance"] == "cosine"
    assert f"index={index_id(embeddings)} dim=384" in schema["description"]
    store.close()


def test_startup_sends_nothing_outside_and_checks_readiness(fake, embeddings, analyzer, monkeypatch) -> None:
    outside: list[str] = []
    lookup = socket.getaddrinfo

    def local_only(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", "::1"):
            outside.append(str(host))  # e.g. the client's own start-up check asking pypi.org for its latest version
            raise socket.gaierror(f"no network in this test: {host}")
        return lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    store = make_store(fake, embeddings, analyzer)
    store.ensure_schema()
    paths = [path for _, path, _ in fake.rest_log]
    assert "/v1/.well-known/ready" in paths  # readiness is checked against the server itself
    store.close()
    assert outside == [], "a city server sends nothing outside"


def test_another_embedding_model_refuses_to_open(fake, embeddings, analyzer) -> None:
    make_store(fake, embeddings, analyzer).ensure_schema()
    other = WeaviateStore(
        connect_weaviate(settings_for(fake)), collection="bokjiKnowledge", model_id="OllamaEmbeddings:bge-m3#x", dim=1024
    )
    with pytest.raises(StoreMismatchError, match="rebuild"):
        other.ensure_schema()
    other.reset()  # what `bokji ingest --rebuild` does
    other.ensure_schema()
    assert "index=OllamaEmbeddings:bge-m3#x dim=1024" in fake.schemas["BokjiKnowledge"]["description"]


def test_one_tenant_per_municipality(fake, embeddings, analyzer, subset_entries: list[FaqEntry]) -> None:
    store = make_store(fake, embeddings, analyzer)
    records = faq_records(subset_entries, embeddings)
    store.upsert([replace(r, tenant="yesi") if r.doc_id == "contact-129" else r for r in records])
    tenants = fake.objects["BokjiKnowledge"]
    assert set(tenants) == {"national", "yesi"}
    assert {o["properties"]["doc_id"] for o in tenants["yesi"].values()} == {"contact-129"}
    created = [body for method, path, body in fake.rest_log if method == "POST" and path.endswith("/tenants")]
    assert created and {t["name"] for body in created for t in body} == {"national", "yesi"}
    batches = [req for name, req in fake.grpc_log if name == "BatchObjects"]
    assert all(obj.tenant in ("national", "yesi") for req in batches for obj in req.objects)


def test_hybrid_query_sends_explicit_alpha_and_relative_score_fusion(fake, embeddings, analyzer, subset_entries) -> None:
    store = make_store(fake, embeddings, analyzer)
    ingest_faqs(store, embeddings, subset_entries)
    fake.grpc_log.clear()
    where = SearchFilter(tenants=("national", "yesi"), categories=("노인",), on_date=date(2026, 6, 1))
    hits = store.search("울엄마 기초연금 얼마", as_vector(embeddings, "기초연금 얼마"), alpha=0.35, k=3, where=where)
    searches = [req for name, req in fake.grpc_log if name == "Search"]
    assert len(searches) == 1 and searches[0].tenant == "national"  # yesi has no objects yet: no tenant, no query
    hybrid = searches[0].hybrid_search
    assert hybrid.alpha == pytest.approx(0.35)
    assert hybrid.fusion_type == base_search_pb2.Hybrid.FUSION_TYPE_RELATIVE_SCORE
    assert list(hybrid.properties) == ["title^4", "alternatives^2", "body^1"]
    assert hybrid.query == "기초연금 얼마"  # who-words stay out of the keyword query
    assert searches[0].metadata.vector or searches[0].metadata.vectors  # vectors come back for exact cosine
    assert hits and hits[0].doc_id == "basic-pension-amount" and hits[0].dense > 0.9


def test_a_rejected_batch_raises_and_keeps_the_old_version(fake, embeddings, analyzer, subset_entries) -> None:
    store = make_store(fake, embeddings, analyzer)
    ingest_faqs(store, embeddings, subset_entries)
    amount = next(e for e in subset_entries if e.id == "basic-pension-amount")
    edited = amount.model_copy(update={"answer": "새 금액 안내예요. 월 최대 349,700원이에요."})
    fake.reject = lambda props: "vector index is read-only" if props.get("record_id") == "basic-pension-amount#alt1" else None
    with pytest.raises(WeaviateWriteError, match="read-only"):
        ingest_faqs(store, embeddings, [edited])
    fake.reject = lambda props: None
    assert store.get("basic-pension-amount")["answer"] == amount.answer
    stored = [o for o in fake.objects["BokjiKnowledge"]["national"].values() if o["properties"]["doc_id"] == amount.id]
    assert {o["properties"]["content_hash"] for o in stored} == {amount.content_hash()}  # no half-written version
    assert store.doc_hashes()[amount.id] == amount.content_hash()


def test_batch_errors_are_exceptions_not_logs(fake, embeddings, analyzer, subset_entries) -> None:
    store = make_store(fake, embeddings, analyzer)
    fake.reject = lambda props: "disk full"
    with pytest.raises(WeaviateWriteError, match=r"rejected 6 of 6 objects: .*disk full"):
        store.upsert(faq_records(subset_entries[:1], embeddings))
    fake.reject = lambda props: None
    assert store.count() == 0


def test_unset_url_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="WEAVIATE_URL"):
        connect_weaviate(StoreSettings(backend="weaviate"))


def test_vector_size_is_checked_before_anything_is_sent(fake, embeddings, analyzer, subset_entries) -> None:
    store = make_store(fake, embeddings, analyzer)
    record = faq_records(subset_entries[:1], embeddings)[0]
    fake.grpc_log.clear()
    with pytest.raises(ValueError, match="vector shape"):
        store.upsert([replace(record, vector=np.zeros(3, dtype=np.float32))])
    assert not [name for name, _ in fake.grpc_log if name == "BatchObjects"]


def test_uuid_is_stable_for_the_same_content(embeddings, subset_entries) -> None:
    from knowledge.retrieval.weaviate_store import record_uuid

    record = faq_records(subset_entries[:1], embeddings)[0]
    assert record_uuid(record) == record_uuid(replace(record, payload={}))
    assert record_uuid(record) != record_uuid(replace(record, content_hash="other"))
    assert uuid.UUID(record_uuid(record)).version == 5
