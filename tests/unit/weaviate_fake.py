"""A protocol-level stand-in for a Weaviate server, for unit tests of the Weaviate store.

It answers the REST endpoints (``/v1/meta``, ``/v1/schema``, tenants) and the gRPC service
(``weaviate.v1.Weaviate``: Search, BatchObjects, BatchDelete, Aggregate, TenantsGet) that
weaviate-client v4 calls, on 127.0.0.1 with ephemeral ports, and records every request so tests can
check what the client sent (schema, tokenization, hybrid alpha and fusion type). Search semantics
follow Weaviate's documentation: BM25F over the queried properties with boosts (k1 1.2, b 0.75),
cosine vector search, relative-score fusion with min-max normalization per result set, and an
explainScore naming each result set. ``kagome_kr`` is approximated with Kiwi morphemes (the real
tokenizer is a Go library inside the server).
"""

from __future__ import annotations

import json
import math
import struct
import threading
import uuid as uuid_lib
from collections import Counter
from collections.abc import Callable
from concurrent import futures
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import numpy as np
from google.protobuf.json_format import MessageToDict
from weaviate.proto.v1 import (
    aggregate_pb2,
    base_pb2,
    base_search_pb2,
    batch_delete_pb2,
    batch_pb2,
    properties_pb2,
    search_get_pb2,
    tenants_pb2,
    weaviate_pb2_grpc,
)

from knowledge.korean.analyzer import KoreanAnalyzer

VERSION = "1.32.0"
K1, B = 1.2, 0.75
Op = base_pb2.Filters


class FakeWeaviate:
    """Server state plus the REST and gRPC servers; use as a context manager."""

    def __init__(self, analyzer: KoreanAnalyzer) -> None:
        self.analyzer = analyzer
        self.schemas: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}  # collection -> tenant -> uuid -> object
        self.rest_log: list[tuple[str, str, Any]] = []
        self.grpc_log: list[tuple[str, Any]] = []
        self.reject: Callable[[dict[str, Any]], str | None] = lambda props: None
        self.lock = threading.RLock()
        self._http: ThreadingHTTPServer | None = None
        self._grpc: grpc.Server | None = None
        self.http_port = self.grpc_port = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FakeWeaviate:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, reply = fake.rest(method, self.path.split("?")[0], body)
                self._send(status, reply)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        weaviate_pb2_grpc.add_WeaviateServicer_to_server(_Servicer(self), self._grpc)
        self.grpc_port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._grpc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._http is not None and self._grpc is not None
        self._http.shutdown()
        self._http.server_close()
        self._grpc.stop(None)

    # -- REST --------------------------------------------------------------------------------
    def rest(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.rest_log.append((method, path, body))
            parts = [p for p in path.split("/") if p][1:]  # drop "v1"
            if parts == ["meta"]:
                return 200, {"version": VERSION, "modules": {}, "grpcMaxMessageSize": 104858000}
            if parts[:1] == [".well-known"]:
                return (200, {}) if parts[1:] == ["ready"] or parts[1:] == ["live"] else (404, None)
            if parts == ["schema"] and method == "POST":
                name = body["class"]
                self.schemas[name] = body
                self.objects[name] = {}
                return 200, body
            if parts == ["schema"]:
                return 200, {"classes": [_as_served(c) for c in self.schemas.values()]}
            if len(parts) == 2 and parts[0] == "schema":
                if parts[1] not in self.schemas:
                    return 404, None
                if method == "DELETE":
                    del self.schemas[parts[1]], self.objects[parts[1]]
                    return 200, None
                return 200, _as_served(self.schemas[parts[1]])
            if len(parts) == 3 and parts[2] == "tenants" and parts[1] in self.schemas:
                if method == "POST":
                    for tenant in body:
                        self.objects[parts[1]].setdefault(tenant["name"], {})
                    return 200, body
                return 200, [{"name": t, "activityStatus": "HOT"} for t in self.objects[parts[1]]]
            return 404, {"error": [{"message": f"fake has no {method} {path}"}]}

    # -- data model ---------------------------------------------------------------------------
    def tenant_objects(self, collection: str, tenant: str) -> dict[str, dict[str, Any]]:
        if collection not in self.objects:
            raise KeyError(f"collection {collection} not found")
        if tenant not in self.objects[collection]:
            auto = self.schemas[collection].get("multiTenancyConfig", {}).get("autoTenantCreation")
            if not auto:
                raise KeyError(f"tenant {tenant} not found")
            self.objects[collection][tenant] = {}
        return self.objects[collection][tenant]

    def tokens(self, text: str) -> list[str]:
        """kagome_kr stand-in: morpheme forms without punctuation or spaces, lowercased."""
        return [m.form.lower() for m in self.analyzer.morphemes(text) if not m.tag.startswith(("SF", "SP", "SS", "SE", "SO", "SW"))]

    def matches(self, obj: dict[str, Any], f: Any) -> bool:
        """Evaluate a gRPC Filters message against an object."""
        if f.operator == Op.OPERATOR_AND:
            return all(self.matches(obj, sub) for sub in f.filters)
        if f.operator == Op.OPERATOR_OR:
            return any(self.matches(obj, sub) for sub in f.filters)
        name = f.target.property if f.HasField("target") else f.on[0]
        value = obj["uuid"] if name in ("_id", "id") else obj["properties"].get(name)
        if f.HasField("value_text_array"):
            wanted: Any = list(f.value_text_array.values)
        elif f.WhichOneof("test_value") == "value_boolean":
            wanted = f.value_boolean
        elif f.WhichOneof("test_value") == "value_int":
            wanted = f.value_int
        else:
            wanted = f.value_text
        if isinstance(value, str) and isinstance(wanted, str) and _is_date(value) and _is_date(wanted):
            value, wanted = _date(value), _date(wanted)
        match f.operator:
            case Op.OPERATOR_EQUAL:
                return bool(value == wanted)
            case Op.OPERATOR_CONTAINS_ANY:
                return value in wanted
            case Op.OPERATOR_LESS_THAN_EQUAL:
                return bool(value <= wanted)
            case Op.OPERATOR_GREATER_THAN_EQUAL:
                return bool(value >= wanted)
        raise NotImplementedError(f"fake cannot evaluate filter operator {f.operator}")

    def bm25(self, objects: list[dict[str, Any]], query: str, boosts: dict[str, float]) -> dict[str, float]:
        """BM25F over the boosted properties (Weaviate's keyword search)."""
        terms = set(self.tokens(query))
        docs = {o["uuid"]: {p: Counter(self.tokens(str(o["properties"].get(p, "")))) for p in boosts} for o in objects}
        lengths = {u: sum(sum(c.values()) for c in props.values()) for u, props in docs.items()}
        avg = sum(lengths.values()) / max(1, len(lengths))
        scores: dict[str, float] = {}
        for term in terms:
            having = [u for u, props in docs.items() if any(term in c for c in props.values())]
            idf = math.log(1 + (len(docs) - len(having) + 0.5) / (len(having) + 0.5))
            for u in having:
                tf = sum(boosts[p] * docs[u][p][term] for p in boosts)
                scores[u] = scores.get(u, 0.0) + idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[u] / max(avg, 1e-9)))
        return scores


def _as_served(schema: dict[str, Any]) -> dict[str, Any]:
    """The collection as a server returns it: what was posted plus the server's defaults."""
    served = json.loads(json.dumps(schema))
    for prop in served.get("properties", []):
        text = prop["dataType"] == ["text"]
        prop.setdefault("indexFilterable", True)
        prop.setdefault("indexSearchable", text)
        prop.setdefault("indexRangeFilters", False)
        if text:
            prop.setdefault("tokenization", "word")
    inverted = served.setdefault("invertedIndexConfig", {})
    inverted.setdefault("bm25", {"b": 0.75, "k1": 1.2})
    inverted.setdefault("cleanupIntervalSeconds", 60)
    inverted["stopwords"] = {"preset": "en", "additions": None, "removals": None, **inverted.get("stopwords", {})}
    hnsw = {
        "cleanupIntervalSeconds": 300, "distance": "cosine", "dynamicEfMin": 100, "dynamicEfMax": 500,
        "dynamicEfFactor": 8, "ef": -1, "efConstruction": 128, "flatSearchCutoff": 40000, "maxConnections": 32,
        "skip": False, "vectorCacheMaxObjects": 1000000000000,
    }  # fmt: skip
    for vector in served.get("vectorConfig", {}).values():
        vector["vectorIndexConfig"] = {**hnsw, **vector.get("vectorIndexConfig", {})}
    served.setdefault("replicationConfig", {}).setdefault("factor", 1)
    served["replicationConfig"].setdefault("asyncEnabled", False)
    served["replicationConfig"].setdefault("deletionStrategy", "NoAutomatedResolution")
    return served


def _is_date(text: str) -> bool:
    return len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _normalized(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    return {k: 1.0 if high == low else (v - low) / (high - low) for k, v in scores.items()}


def _value(value: Any) -> properties_pb2.Value:
    if isinstance(value, bool):
        return properties_pb2.Value(bool_value=value)
    if isinstance(value, (int, float)):
        return properties_pb2.Value(number_value=float(value))
    if value is None:
        return properties_pb2.Value(null_value=0)
    return properties_pb2.Value(text_value=str(value))


class _Servicer(weaviate_pb2_grpc.WeaviateServicer):
    def __init__(self, fake: FakeWeaviate) -> None:
        self.fake = fake

    def BatchObjects(self, request: Any, context: Any) -> Any:
        fake = self.fake
        with fake.lock:
            fake.grpc_log.append(("BatchObjects", request))
            errors = []
            for index, obj in enumerate(request.objects):
                props = MessageToDict(obj.properties.non_ref_properties)
                if obj.vectors:
                    vector = np.frombuffer(obj.vectors[0].vector_bytes, dtype=np.float32)
                else:
                    vector = np.frombuffer(obj.vector_bytes, dtype=np.float32)
                reason = fake.reject(props)
                if reason is None and not obj.tenant:
                    reason = "class is multi-tenant, tenant is required"
                if reason is not None:
                    errors.append(batch_pb2.BatchObjectsReply.BatchError(index=index, error=reason))
                    continue
                try:
                    store = fake.tenant_objects(obj.collection, obj.tenant)
                except KeyError as exc:
                    errors.append(batch_pb2.BatchObjectsReply.BatchError(index=index, error=str(exc)))
                    continue
                store[obj.uuid] = {"uuid": obj.uuid, "properties": props, "vector": vector.copy()}
            return batch_pb2.BatchObjectsReply(took=0.001, errors=errors)

    def BatchDelete(self, request: Any, context: Any) -> Any:
        fake = self.fake
        with fake.lock:
            fake.grpc_log.append(("BatchDelete", request))
            store = fake.tenant_objects(request.collection, request.tenant)
            gone = [u for u, o in store.items() if fake.matches(o, request.filters)]
            for u in gone:
                del store[u]
            return batch_delete_pb2.BatchDeleteReply(took=0.001, failed=0, matches=len(gone), successful=len(gone))

    def TenantsGet(self, request: Any, context: Any) -> Any:
        with self.fake.lock:
            self.fake.grpc_log.append(("TenantsGet", request))
            names = self.fake.objects.get(request.collection, {})
            return tenants_pb2.TenantsGetReply(
                took=0.001,
                tenants=[
                    tenants_pb2.Tenant(name=n, activity_status=tenants_pb2.TENANT_ACTIVITY_STATUS_HOT) for n in names
                ],
            )

    def Aggregate(self, request: Any, context: Any) -> Any:
        fake = self.fake
        with fake.lock:
            fake.grpc_log.append(("Aggregate", request))
            objects = list(fake.tenant_objects(request.collection, request.tenant).values())
            if request.HasField("filters"):
                objects = [o for o in objects if fake.matches(o, request.filters)]
            return aggregate_pb2.AggregateReply(
                took=0.001, single_result=aggregate_pb2.AggregateReply.Single(objects_count=len(objects))
            )

    def Search(self, request: Any, context: Any) -> Any:
        fake = self.fake
        with fake.lock:
            fake.grpc_log.append(("Search", request))
            try:
                objects = list(fake.tenant_objects(request.collection, request.tenant).values())
            except KeyError as exc:
                context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
            if request.HasField("filters"):
                objects = [o for o in objects if fake.matches(o, request.filters)]
            scored: list[tuple[dict[str, Any], float | None, str]] = []
            if request.HasField("hybrid_search"):
                scored = self._hybrid(objects, request.hybrid_search, request.limit or 10)
            else:
                objects.sort(key=lambda o: o["uuid"])
                if request.after:
                    objects = [o for o in objects if o["uuid"] > request.after]
                objects = objects[request.offset :]
                scored = [(o, None, "") for o in objects[: request.limit or 10]]
            return search_get_pb2.SearchReply(took=0.001, results=[self._result(request, *s) for s in scored])

    def _hybrid(self, objects: list[dict[str, Any]], hybrid: Any, limit: int) -> list[tuple[dict[str, Any], float | None, str]]:
        if hybrid.fusion_type != base_search_pb2.Hybrid.FUSION_TYPE_RELATIVE_SCORE:
            raise NotImplementedError("the fake implements relative-score fusion only")
        boosts = {}
        for prop in hybrid.properties:
            name, _, boost = prop.partition("^")
            boosts[name] = float(boost or 1)
        by_id = {o["uuid"]: o for o in objects}
        keyword: dict[str, float] = {}
        vector: dict[str, float] = {}
        if hybrid.alpha < 1:
            keyword = dict(sorted(self.fake.bm25(objects, hybrid.query, boosts).items(), key=lambda kv: -kv[1])[:limit])
        if hybrid.alpha > 0:
            raw = hybrid.vectors[0].vector_bytes if hybrid.vectors else hybrid.vector_bytes
            query = np.frombuffer(raw, dtype=np.float32)
            sims = {u: float(o["vector"] @ query / (np.linalg.norm(o["vector"]) * np.linalg.norm(query) or 1)) for u, o in by_id.items()}
            vector = dict(sorted(sims.items(), key=lambda kv: -kv[1])[:limit])
        kn, vn = _normalized(keyword), _normalized(vector)
        fused = {u: hybrid.alpha * vn.get(u, 0.0) + (1 - hybrid.alpha) * kn.get(u, 0.0) for u in keyword.keys() | vector.keys()}
        out = []
        for u, score in sorted(fused.items(), key=lambda kv: -kv[1])[:limit]:
            explain = ""
            if u in keyword:
                explain += f"\nHybrid (Result Set keyword,bm25) Document {u}: original score {keyword[u]}, normalized score: {kn[u]}"
            if u in vector:
                explain += f" - \nHybrid (Result Set vector,hybridVector) Document {u}: original score {vector[u]}, normalized score: {vn[u]}"
            out.append((by_id[u], score, explain))
        return out

    def _result(self, request: Any, obj: dict[str, Any], score: float | None, explain: str) -> Any:
        wanted = list(request.properties.non_ref_properties) or list(obj["properties"])
        props = properties_pb2.Properties(fields={k: _value(obj["properties"].get(k)) for k in wanted})
        metadata = search_get_pb2.MetadataResult(id=obj["uuid"], id_as_bytes=uuid_lib.UUID(obj["uuid"]).bytes)
        if score is not None:
            metadata.score, metadata.score_present = score, True
            metadata.explain_score, metadata.explain_score_present = explain, True
        if request.metadata.vector or request.metadata.vectors:
            metadata.vectors.append(
                base_pb2.Vectors(
                    name="default",
                    vector_bytes=struct.pack(f"<{len(obj['vector'])}f", *obj["vector"]),
                    type=base_pb2.Vectors.VECTOR_TYPE_SINGLE_FP32,
                )
            )
        return search_get_pb2.SearchResult(
            properties=search_get_pb2.PropertiesResult(non_ref_props=props, target_collection=request.collection),
            metadata=metadata,
        )
