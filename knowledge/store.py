"""The store protocol and the embedded default: SQLite (FTS5 for BM25) plus exact dense search.

Hybrid search follows Weaviate's relative-score fusion so the embedded store and Weaviate rank
alike: each result list is min-max normalized, then ``alpha * dense + (1 - alpha) * keyword``.
Records are grouped by document (an FAQ has one record per phrasing), best record wins.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.analyzer import KoreanAnalyzer, index_terms

_FAR_FUTURE = "9999-12-31"
_CANDIDATES = 50


@dataclass(frozen=True)
class Record:
    """One searchable piece of a document: a phrasing of an FAQ question, or a text chunk."""

    id: str
    doc_id: str
    text: str
    vector: np.ndarray
    payload: dict[str, Any]
    tenant: str = "national"
    kind: str = "faq"
    category: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    content_hash: str = ""


@dataclass(frozen=True)
class SearchFilter:
    """Typed filters every store applies before ranking."""

    tenants: tuple[str, ...] = ("national",)
    categories: tuple[str, ...] = ()
    on_date: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Hit:
    """A ranked document with the scores that ranked it."""

    doc_id: str
    score: float
    dense: float
    keyword: float
    payload: dict[str, Any]


class StoreMismatchError(RuntimeError):
    """The index was built with another embedding model; it must be rebuilt, never mixed."""


class KnowledgeStore(Protocol):
    """What the answer service and ingestion need from a store."""

    def upsert(self, records: Sequence[Record]) -> None:
        """Replace all records of the documents in ``records`` atomically."""
        ...

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents; returns how many records went."""
        ...

    def search(self, query: str, vector: np.ndarray, *, alpha: float, k: int, where: SearchFilter) -> list[Hit]:
        """Hybrid search: ``alpha`` 1 is pure vector, 0 pure keyword."""
        ...

    def count(self, tenant: str | None = None) -> int:
        """Number of documents (optionally of one tenant)."""
        ...

    def doc_hashes(self) -> dict[str, str]:
        """Content hash per document id, for incremental ingestion."""
        ...

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The payload of one document, or None."""
        ...


def fuse(dense: dict[int, float], keyword: dict[int, float], alpha: float) -> dict[int, tuple[float, float, float]]:
    """Relative-score fusion: min-max normalize each list, then weight by alpha.

    Returns ``{key: (fused, dense_raw, keyword_raw)}``; a key missing from a list scores 0 there.
    """

    def scaled(scores: dict[int, float]) -> dict[int, float]:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        span = high - low
        return {k: 1.0 if span == 0 else (v - low) / span for k, v in scores.items()}

    d, kw = scaled(dense), scaled(keyword)
    return {
        key: (
            alpha * d.get(key, 0.0) + (1 - alpha) * kw.get(key, 0.0),
            dense.get(key, 0.0),
            keyword.get(key, 0.0),
        )
        for key in dense.keys() | keyword.keys()
    }


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    text TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_doc ON records(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');
"""


class _DenseIndex:
    """In-memory copy of the vectors for exact search, reloaded when the database changes."""

    def __init__(self, rows: list[tuple[int, str, str, str, bytes]], dim: int) -> None:
        self.rowids = np.array([r[0] for r in rows], dtype=np.int64)
        self.tenants = np.array([r[1] for r in rows], dtype=object)
        self.valid_from = np.array([r[2] for r in rows], dtype="U10")
        self.valid_until = np.array([r[3] for r in rows], dtype="U10")
        self.matrix = (
            np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(len(rows), dim)
            if rows
            else np.zeros((0, dim), dtype=np.float32)
        )


class SqliteStore:
    """Persistent embedded store: one SQLite file, BM25 over Korean morphemes, exact cosine search."""

    def __init__(self, path: Path, analyzer: KoreanAnalyzer, model_id: str, dim: int) -> None:
        """Open (or create) the store at ``path`` for vectors of ``model_id``.

        Raises:
            StoreMismatchError: the file holds vectors of another model (call :meth:`reset`).
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.model_id = model_id
        self.dim = dim
        self._analyzer = analyzer
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._dense: _DenseIndex | None = None
        self._seen_version = -1
        stored = self._meta("model_id")
        if stored is None:
            self._set_meta("model_id", model_id)
            self._set_meta("dim", str(dim))
        elif stored != model_id:
            raise StoreMismatchError(f"{path} was built with {stored!r}, not {model_id!r}: rebuild it (`bokji ingest --rebuild`)")

    # -- metadata ---------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @staticmethod
    def stored_model_id(path: Path) -> str | None:
        """The model id a store file was built with, without opening it for writing."""
        if not path.exists():
            return None
        with sqlite3.connect(path) as db:
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'model_id'").fetchone()
            except sqlite3.OperationalError:
                return None
        return None if row is None else str(row[0])

    @staticmethod
    def document_count(path: Path) -> int | None:
        """Documents in a store file, read-only (None when the file is missing or unreadable)."""
        if not path.exists():
            return None
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2) as db:
                return int(db.execute("SELECT COUNT(DISTINCT doc_id) FROM records").fetchone()[0])
        except sqlite3.Error:
            return None

    @classmethod
    def reset(cls, path: Path) -> None:
        """Delete a store file (and its WAL) so it can be rebuilt with another model."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    # -- writes -----------------------------------------------------------------------------
    def upsert(self, records: Sequence[Record]) -> None:
        """Replace every record of the affected documents in one transaction."""
        for record in records:
            if record.vector.shape != (self.dim,):
                raise ValueError(f"record {record.id}: vector shape {record.vector.shape}, want ({self.dim},)")
        doc_ids = sorted({r.doc_id for r in records})
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._delete_docs(doc_ids)
                for r in records:
                    cur = self._db.execute(
                        "INSERT INTO records(id, doc_id, tenant, kind, category, text, valid_from,"
                        " valid_until, content_hash, payload, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            r.id,
                            r.doc_id,
                            r.tenant,
                            r.kind,
                            r.category,
                            r.text,
                            r.valid_from.isoformat() if r.valid_from else "0000-01-01",
                            r.valid_until.isoformat() if r.valid_until else _FAR_FUTURE,
                            r.content_hash,
                            json.dumps(r.payload, ensure_ascii=False, default=str),
                            np.asarray(r.vector, dtype=np.float32).tobytes(),
                        ),
                    )
                    terms = " ".join(index_terms(self._analyzer, r.text))
                    self._db.execute("INSERT INTO fts(rowid, terms) VALUES (?, ?)", (cur.lastrowid, terms))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._dense = None

    def _delete_docs(self, doc_ids: Sequence[str]) -> int:
        removed = 0
        for doc_id in doc_ids:
            rowids = [row[0] for row in self._db.execute("SELECT rowid FROM records WHERE doc_id = ?", (doc_id,))]
            for rowid in rowids:
                self._db.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
            removed += self._db.execute("DELETE FROM records WHERE doc_id = ?", (doc_id,)).rowcount
        return removed

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents and their records in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._delete_docs(list(doc_ids))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._dense = None
            return removed

    # -- reads ------------------------------------------------------------------------------
    def count(self, tenant: str | None = None) -> int:
        """Number of distinct documents."""
        sql = "SELECT COUNT(DISTINCT doc_id) FROM records"
        args: tuple[str, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = ?"
            args = (tenant,)
        with self._lock:
            return int(self._db.execute(sql, args).fetchone()[0])

    def doc_hashes(self) -> dict[str, str]:
        """Content hash per document."""
        with self._lock:
            return dict(self._db.execute("SELECT doc_id, MIN(content_hash) FROM records GROUP BY doc_id").fetchall())

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The payload of a document."""
        with self._lock:
            row = self._db.execute("SELECT payload FROM records WHERE doc_id = ? LIMIT 1", (doc_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def _dense_index(self) -> _DenseIndex:
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if self._dense is None or version != self._seen_version:
            rows = self._db.execute(
                "SELECT rowid, tenant, valid_from, valid_until, vector FROM records ORDER BY rowid"
            ).fetchall()
            self._dense = _DenseIndex(rows, self.dim)
            self._seen_version = version
        return self._dense

    def _keyword(self, query: str, where: SearchFilter) -> dict[int, float]:
        terms = sorted(set(index_terms(self._analyzer, query)))
        if not terms:
            return {}
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        marks = ",".join("?" * len(where.tenants))
        sql = (
            "SELECT r.rowid, -bm25(fts) FROM fts JOIN records r ON r.rowid = fts.rowid"
            f" WHERE fts MATCH ? AND r.tenant IN ({marks}) AND r.valid_from <= ? AND r.valid_until >= ?"
        )
        args: list[Any] = [match, *where.tenants, where.on_date.isoformat(), where.on_date.isoformat()]
        if where.categories:
            sql += f" AND r.category IN ({','.join('?' * len(where.categories))})"
            args.extend(where.categories)
        sql += " ORDER BY bm25(fts) LIMIT ?"
        args.append(_CANDIDATES)
        return {int(rowid): float(score) for rowid, score in self._db.execute(sql, args)}

    def _vector(self, vector: np.ndarray, where: SearchFilter) -> dict[int, float]:
        index = self._dense_index()
        if not len(index.rowids):
            return {}
        day = where.on_date.isoformat()
        mask = np.isin(index.tenants, where.tenants) & (index.valid_from <= day) & (index.valid_until >= day)
        if where.categories:
            cats = self._categories(index.rowids[mask])
            keep = np.array([cats.get(int(r), "") in where.categories for r in index.rowids[mask]])
            rows = np.flatnonzero(mask)[keep] if keep.size else np.array([], dtype=np.int64)
        else:
            rows = np.flatnonzero(mask)
        if not rows.size:
            return {}
        scores = index.matrix[rows] @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-scores)[:_CANDIDATES]
        return {int(index.rowids[rows[i]]): float(scores[i]) for i in top}

    def _categories(self, rowids: np.ndarray) -> dict[int, str]:
        found = self._db.execute(
            f"SELECT rowid, category FROM records WHERE rowid IN ({','.join('?' * len(rowids))})",
            [int(r) for r in rowids],
        )
        return {int(r): str(c) for r, c in found}

    def search(
        self, query: str, vector: np.ndarray, *, alpha: float = 0.5, k: int = 5, where: SearchFilter | None = None
    ) -> list[Hit]:
        """Hybrid search over documents valid on ``where.on_date`` in ``where.tenants``."""
        where = where or SearchFilter()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be within [0, 1], got {alpha}")
        with self._lock:
            dense = self._vector(vector, where) if alpha > 0 else {}
            keyword = self._keyword(query, where) if alpha < 1 else {}
            rowids = dense.keys() | keyword.keys()
            if not rowids:
                return []
            marks = ",".join("?" * len(rowids))
            rows = {
                int(rowid): (str(doc_id), str(payload))
                for rowid, doc_id, payload in self._db.execute(
                    f"SELECT rowid, doc_id, payload FROM records WHERE rowid IN ({marks})", list(rowids)
                )
            }
        # A document is as close as its closest record, separately for each signal: an FAQ's best
        # phrasing (dense) and its best keyword record may differ; fusion then runs per document.
        doc_dense: dict[str, float] = {}
        doc_keyword: dict[str, float] = {}
        for rowid, score in dense.items():
            doc = rows[rowid][0]
            doc_dense[doc] = max(score, doc_dense.get(doc, score))
        for rowid, score in keyword.items():
            doc = rows[rowid][0]
            doc_keyword[doc] = max(score, doc_keyword.get(doc, score))
        docs = sorted(doc_dense.keys() | doc_keyword.keys())
        index = {doc: i for i, doc in enumerate(docs)}
        fused = fuse({index[d]: v for d, v in doc_dense.items()}, {index[d]: v for d, v in doc_keyword.items()}, alpha)
        payloads = {doc: payload for doc, payload in rows.values()}
        ranked = sorted(fused.items(), key=lambda item: (-item[1][0], docs[item[0]]))[:k]
        return [Hit(docs[i], score, d, kw, json.loads(payloads[docs[i]])) for i, (score, d, kw) in ranked]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
