"""The scale-out store: Weaviate (client v4), one tenant per municipality, same ranking as the embedded store.

Schema: Korean keyword fields use ``kagome_kr`` tokenization (the server needs
``ENABLE_TOKENIZER_KAGOME_KR=true``), filter fields ``field`` tokenization, vectors are ours (no
vectorizer, cosine HNSW). The index id (embedding model + record scheme) is kept in the collection
description; another id refuses to open (:class:`StoreMismatchError`), so vectors never mix.
Search sends a hybrid query with an explicit ``alpha`` and relative-score fusion; the returned
records are then ranked per document by :mod:`knowledge.retrieval.ranking`, with the exact cosine computed from
the returned vectors, so both stores rank alike (BM25 is per tenant in Weaviate: each tenant's keyword
scores are taken relative to its best match before tenants are merged). Batch errors raise
:class:`WeaviateWriteError`.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from knowledge.domain.hit import Hit, SearchFilter
from knowledge.korean.analyzer import KoreanAnalyzer, focus_text
from knowledge.retrieval.ranking import CANDIDATES, KEYWORD_WEIGHTS, Scored, check_alpha, rank_documents
from knowledge.retrieval.records import Record, StoreMismatchError

if TYPE_CHECKING:
    from knowledge.settings import StoreSettings

_KEYWORD_FIELDS = ("title", "alternatives", "body")
_FILTER_FIELDS = ("record_id", "doc_id", "kind", "category", "content_hash")
_DESCRIPTION = re.compile(r"index=(?P<index>\S+) dim=(?P<dim>\d+)")
# Weaviate's explainScore for relative-score fusion names each result set and its original score.
_KEYWORD_EXPLAIN = re.compile(r"Result Set keyword[^)]*\)[^:]*:\s*original score\s*([-+0-9.eE]+)")
_FAR_PAST = datetime(1, 1, 1, tzinfo=timezone.utc)
_FAR_FUTURE = datetime(9999, 12, 31, tzinfo=timezone.utc)
_PAGE = 1000


class WeaviateWriteError(RuntimeError):
    """Weaviate rejected some objects of a write; nothing of that write is kept."""


def _day(value: date | None, default: datetime) -> datetime:
    return default if value is None else datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def connect_weaviate(settings: StoreSettings) -> Any:
    """A connected ``weaviate.WeaviateClient`` for ``settings.weaviate_url`` (gRPC on the same host).

    The client's start-up checks are skipped: one of them asks PyPI for the latest client version,
    and a city server sends nothing outside. Readiness is checked against the server instead.

    Raises:
        RuntimeError: the client package is missing, the URL is unset, or the server is not ready.
    """
    try:
        import weaviate
        from weaviate.classes.init import AdditionalConfig, Auth, Timeout
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("the Weaviate store needs 'weaviate-client>=4.10': pip install weaviate-client") from exc
    if not settings.weaviate_url:
        raise RuntimeError("store.backend=weaviate needs BOKJI_KNOWLEDGE__STORE__WEAVIATE_URL (e.g. http://weaviate:8080)")
    url = urlsplit(settings.weaviate_url)
    secure = url.scheme == "https"
    host = url.hostname or "localhost"
    timeout = settings.weaviate_timeout_s
    client = weaviate.connect_to_custom(
        http_host=host,
        http_port=url.port or (443 if secure else 80),
        http_secure=secure,
        grpc_host=host,
        grpc_port=settings.weaviate_grpc_port,
        grpc_secure=secure,
        auth_credentials=Auth.api_key(settings.weaviate_api_key) if settings.weaviate_api_key else None,
        additional_config=AdditionalConfig(timeout=Timeout(init=timeout, query=timeout, insert=timeout * 6)),
        skip_init_checks=True,
    )
    if not client.is_ready():
        client.close()
        raise RuntimeError(f"Weaviate at {settings.weaviate_url} is not ready")
    return client


def record_uuid(record: Record) -> str:
    """Deterministic object id: the same record with the same content is the same object."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bokji:{record.id}:{record.content_hash}"))


class WeaviateStore:
    """A :class:`~knowledge.retrieval.records.KnowledgeStore` on a Weaviate collection (multi-tenant)."""

    def __init__(
        self,
        client: Any,
        *,
        collection: str,
        model_id: str,
        dim: int,
        replication_factor: int = 1,
        async_replication: bool = False,
        analyzer: KoreanAnalyzer | None = None,
    ) -> None:
        """Wrap a connected ``weaviate.WeaviateClient``; nothing is sent until first use.

        Args:
            client: the v4 client (built by :func:`knowledge.backends.build_store`).
            collection: collection name (Weaviate capitalizes the first letter).
            model_id: index id stored in the collection description.
            dim: vector size of the embedding model.
            replication_factor: copies of each shard; fixed when the collection is created.
            async_replication: let replicas repair in the background (Weaviate >= 1.26).
            analyzer: when given, who-words are left out of the keyword query, as in the embedded store.
        """
        self.client = client
        self.name = collection[:1].upper() + collection[1:]
        self.model_id = model_id
        self.dim = dim
        self.replication_factor = replication_factor
        self.async_replication = async_replication
        self._analyzer = analyzer
        self._ready = False
        self._tenants: set[str] = set()
        self._lock = threading.Lock()

    # -- schema -----------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create the collection, or check that it holds vectors of this index id.

        Raises:
            StoreMismatchError: the collection was built for another embedding model or scheme.
        """
        with self._lock:
            if self._ready:
                return
            if self.client.collections.exists(self.name):
                description = self.client.collections.get(self.name).config.get(simple=True).description or ""
                found = _DESCRIPTION.search(description)
                if found is None or found["index"] != self.model_id or int(found["dim"]) != self.dim:
                    raise StoreMismatchError(
                        f"Weaviate collection {self.name} holds {description!r}, not index={self.model_id} dim={self.dim}:"
                        " rebuild it (`bokji ingest --rebuild`)"
                    )
            else:
                self._create()
            self._tenants = set(self.client.collections.get(self.name).tenants.get())
            self._ready = True

    def _create(self) -> None:
        from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances

        korean = [
            Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.KAGOME_KR, index_filterable=False)
            for name in _KEYWORD_FIELDS
        ]
        filters = [
            Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.FIELD, index_searchable=False)
            for name in _FILTER_FIELDS
        ]
        self.client.collections.create(
            self.name,
            description=f"bokji-bot knowledge; index={self.model_id} dim={self.dim}",
            properties=[
                *korean,
                *filters,
                # 1 on one record per document (for counting and listing), else 0. An INT, not a BOOL:
                # weaviate-client 4.16 serializes a boolean filter value into an int field, which
                # protobuf rejects ("Expected an int, got a boolean").
                Property(name="primary", data_type=DataType.INT),
                Property(name="valid_from", data_type=DataType.DATE),
                Property(name="valid_until", data_type=DataType.DATE),
                Property(name="text", data_type=DataType.TEXT, index_searchable=False, index_filterable=False),
                Property(name="payload", data_type=DataType.TEXT, index_searchable=False, index_filterable=False),
            ],
            vector_config=Configure.Vectors.self_provided(
                vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)
            ),
            multi_tenancy_config=Configure.multi_tenancy(enabled=True, auto_tenant_creation=True, auto_tenant_activation=True),
            replication_config=Configure.replication(
                factor=self.replication_factor, async_enabled=self.async_replication or None
            ),
            inverted_index_config=Configure.inverted_index(bm25_k1=1.2, bm25_b=0.75),
        )

    def reset(self) -> None:
        """Drop the collection (for a rebuild with another model)."""
        with self._lock:
            if self.client.collections.exists(self.name):
                self.client.collections.delete(self.name)
            self._ready = False
            self._tenants = set()

    def _collection(self, tenant: str) -> Any:
        self.ensure_schema()
        return self.client.collections.get(self.name).with_tenant(tenant)

    def _ensure_tenants(self, tenants: Iterable[str]) -> None:
        missing = sorted(set(tenants) - self._tenants)
        if missing:
            self.client.collections.get(self.name).tenants.create(missing)
            self._tenants |= set(missing)

    # -- writes -----------------------------------------------------------------------------
    def _properties(self, record: Record, primary: bool) -> dict[str, Any]:
        keywords = record.keywords
        return {
            "title": keywords.title if keywords else "",
            "alternatives": keywords.alternatives if keywords else "",
            "body": keywords.body if keywords else "",
            "record_id": record.id,
            "doc_id": record.doc_id,
            "kind": record.kind,
            "category": record.category,
            "content_hash": record.content_hash,
            "primary": 1 if primary else 0,
            "valid_from": _day(record.valid_from, _FAR_PAST),
            "valid_until": _day(record.valid_until, _FAR_FUTURE),
            "text": record.text,
            "payload": json.dumps(record.payload, ensure_ascii=False, default=str),
        }

    def upsert(self, records: Sequence[Record]) -> None:
        """Write the records, then remove the documents' older records.

        Weaviate has no transactions: new objects go in first (a failed batch removes what it
        added and raises), and the old ones are deleted only after every new one is stored. A
        concurrent search may see a document's old and new records together for that moment; it
        ranks the document once either way.
        """
        from weaviate.classes.data import DataObject
        from weaviate.exceptions import WeaviateBaseError

        for record in records:
            if record.vector.shape != (self.dim,):
                raise ValueError(f"record {record.id}: vector shape {record.vector.shape}, want ({self.dim},)")
        if not records:
            return
        self.ensure_schema()
        doc_ids = sorted({r.doc_id for r in records})
        old = self._object_ids(doc_ids)
        first: dict[str, str] = {}
        for r in records:
            first.setdefault(r.doc_id, r.id)
        by_tenant: dict[str, list[Any]] = {}
        for r in records:
            obj = DataObject(
                properties=self._properties(r, primary=first[r.doc_id] == r.id),
                uuid=record_uuid(r),
                vector=np.asarray(r.vector, dtype=np.float32).tolist(),
            )
            by_tenant.setdefault(r.tenant, []).append(obj)
        self._ensure_tenants(by_tenant)
        written: dict[str, list[str]] = {}
        for tenant, objects in by_tenant.items():
            written[tenant] = [str(o.uuid) for o in objects]
            try:
                result = self._collection(tenant).data.insert_many(objects)
                failure = (
                    "; ".join(f"object {i}: {e.message}" for i, e in list(result.errors.items())[:5])
                    if result.has_errors
                    else ""
                )
                failed = len(result.errors)
            except WeaviateBaseError as exc:  # every object failed, or the call itself did
                failure, failed = str(exc), len(objects)
            if failure:
                for done_tenant, new_ids in written.items():
                    self._delete_ids(done_tenant, [i for i in new_ids if i not in old.get(done_tenant, set())])
                raise WeaviateWriteError(f"Weaviate rejected {failed} of {len(objects)} objects: {failure}")
        for tenant, old_ids in old.items():
            self._delete_ids(tenant, sorted(old_ids - set(written.get(tenant, []))))

    def _object_ids(self, doc_ids: Sequence[str]) -> dict[str, set[str]]:
        """Object ids of the documents' current records, by tenant."""
        from weaviate.classes.query import Filter

        found: dict[str, set[str]] = {}
        for tenant in sorted(self._tenants):
            where = Filter.by_property("doc_id").contains_any(list(doc_ids))
            offset = 0
            while True:
                page = self._collection(tenant).query.fetch_objects(
                    filters=where, limit=_PAGE, offset=offset, return_properties=["doc_id"]
                )
                found.setdefault(tenant, set()).update(str(o.uuid) for o in page.objects)
                if len(page.objects) < _PAGE:
                    break
                offset += _PAGE
        return {t: ids for t, ids in found.items() if ids}

    def _delete_ids(self, tenant: str, ids: Sequence[str]) -> int:
        from weaviate.classes.query import Filter

        removed = 0
        for start in range(0, len(ids), _PAGE):
            result = self._collection(tenant).data.delete_many(where=Filter.by_id().contains_any(ids[start : start + _PAGE]))
            if result.failed:
                raise WeaviateWriteError(f"Weaviate failed to delete {result.failed} objects in tenant {tenant}")
            removed += int(result.successful)
        return removed

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents from every tenant; returns how many records went."""
        from weaviate.classes.query import Filter

        ids = sorted(set(doc_ids))
        if not ids:
            return 0
        self.ensure_schema()
        removed = 0
        for tenant in sorted(self._tenants):
            result = self._collection(tenant).data.delete_many(where=Filter.by_property("doc_id").contains_any(ids))
            if result.failed:
                raise WeaviateWriteError(f"Weaviate failed to delete {result.failed} objects in tenant {tenant}")
            removed += int(result.successful)
        return removed

    # -- reads ------------------------------------------------------------------------------
    def count(self, tenant: str | None = None) -> int:
        """Number of documents (their primary records), in one tenant or all."""
        from weaviate.classes.query import Filter

        self.ensure_schema()
        tenants = [tenant] if tenant is not None else sorted(self._tenants)
        total = 0
        for name in tenants:
            if name not in self._tenants:
                continue
            result = self._collection(name).aggregate.over_all(
                filters=Filter.by_property("primary").equal(1), total_count=True
            )
            total += int(result.total_count or 0)
        return total

    def count_existing(self) -> int | None:
        """Documents in this collection whichever model built it, or None when it does not exist (nothing is created).

        ``bokji ingest --collection`` compares a new collection with the live one, which may hold another index id.
        """
        from weaviate.classes.query import Filter

        if not self.client.collections.exists(self.name):
            return None
        collection = self.client.collections.get(self.name)
        total = 0
        for tenant in sorted(collection.tenants.get()):
            result = collection.with_tenant(tenant).aggregate.over_all(
                filters=Filter.by_property("primary").equal(1), total_count=True
            )
            total += int(result.total_count or 0)
        return total

    def doc_hashes(self) -> dict[str, str]:
        """Content hash per document, read with the cursor API (any collection size)."""
        self.ensure_schema()
        hashes: dict[str, str] = {}
        for tenant in sorted(self._tenants):
            for obj in self._collection(tenant).iterator(return_properties=["doc_id", "content_hash", "primary"]):
                if obj.properties.get("primary") == 1:
                    hashes[str(obj.properties["doc_id"])] = str(obj.properties["content_hash"])
        return hashes

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The payload of a document's primary record, or None."""
        from weaviate.classes.query import Filter

        self.ensure_schema()
        where = Filter.by_property("doc_id").equal(doc_id) & Filter.by_property("primary").equal(1)
        for tenant in sorted(self._tenants):
            found = self._collection(tenant).query.fetch_objects(filters=where, limit=1, return_properties=["payload"])
            if found.objects:
                return dict(json.loads(str(found.objects[0].properties["payload"])))
        return None

    def _filters(self, where: SearchFilter) -> Any:
        from weaviate.classes.query import Filter

        day = _day(where.on_date, _FAR_PAST)
        combined = Filter.by_property("valid_from").less_or_equal(day) & Filter.by_property("valid_until").greater_or_equal(day)
        if where.categories:
            combined = combined & Filter.by_property("category").contains_any(list(where.categories))
        return combined

    def search(
        self, query: str, vector: np.ndarray, *, alpha: float = 0.5, k: int = 5, where: SearchFilter | None = None
    ) -> list[Hit]:
        """Hybrid search in each requested tenant, ranked per document across tenants."""
        from weaviate.classes.query import HybridFusion, MetadataQuery

        where = where or SearchFilter()
        check_alpha(alpha)
        self.ensure_schema()
        text = focus_text(self._analyzer, query) if self._analyzer is not None else query
        query_vector = np.asarray(vector, dtype=np.float32)
        boosts = [f"{name}^{weight / min(KEYWORD_WEIGHTS):g}" for name, weight in zip(_KEYWORD_FIELDS, KEYWORD_WEIGHTS, strict=True)]
        dense: list[Scored] = []
        keyword: list[Scored] = []
        payloads: dict[str, str] = {}
        for tenant in where.tenants:
            if tenant not in self._tenants:
                continue
            result = self._collection(tenant).query.hybrid(
                query=text,
                vector=query_vector.tolist(),
                alpha=alpha,
                fusion_type=HybridFusion.RELATIVE_SCORE,
                query_properties=boosts,
                limit=4 * CANDIDATES,
                filters=self._filters(where),
                return_metadata=MetadataQuery(score=True, explain_score=True),
                return_properties=["doc_id", "kind", "payload"],
                include_vector=True,
            )
            tenant_keyword: list[tuple[str, str, float]] = []
            for obj in result.objects:
                key = str(obj.uuid)
                doc = str(obj.properties["doc_id"])
                payloads[key] = str(obj.properties["payload"])
                vec = obj.vector.get("default") if isinstance(obj.vector, dict) else obj.vector
                if vec is not None and len(vec) == self.dim:
                    cosine = float(np.dot(np.asarray(vec, dtype=np.float32), query_vector))
                    dense.append(Scored(doc, key, cosine, phrasing=obj.properties.get("kind") == "faq"))
                explained = _KEYWORD_EXPLAIN.search(obj.metadata.explain_score or "")
                if explained:
                    tenant_keyword.append((doc, key, float(explained.group(1))))
            # BM25 statistics are per shard, i.e. per tenant: a small municipality's scores are not on
            # the national scale. Each tenant's scores are taken relative to its best match.
            top = max((score for _, _, score in tenant_keyword), default=0.0)
            if top > 0:
                keyword += [Scored(doc, key, score / top, raw=score) for doc, key, score in tenant_keyword]
        ranked = rank_documents(dense if alpha > 0 else [], keyword if alpha < 1 else [], alpha=alpha, k=k)
        return [Hit(r.doc_id, r.score, r.dense, r.keyword, json.loads(payloads[str(r.record)])) for r in ranked]

    def close(self) -> None:
        """Close the client connection."""
        self.client.close()
