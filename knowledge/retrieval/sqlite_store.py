"""The embedded default store: one SQLite file, FTS5 BM25F over Korean terms, exact dense search.

Both signals are ranked per document by :mod:`knowledge.retrieval.ranking`, as the Weaviate store does. The
records, filters and the store protocol live in :mod:`knowledge.retrieval.records` (re-exported here).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.domain.hit import Hit, SearchFilter
from knowledge.korean.analyzer import KoreanAnalyzer, index_terms, query_terms
from knowledge.retrieval.ranking import CANDIDATES, KEYWORD_WEIGHTS, Scored, check_alpha, rank_documents
from knowledge.retrieval.records import KeywordFields, KnowledgeStore, Record, StoreMismatchError

__all__ = [
    "Hit",
    "KeywordFields",
    "KnowledgeStore",
    "Record",
    "SearchFilter",
    "SqliteStore",
    "StoreMismatchError",
]

_FAR_PAST = "0000-01-01"
_FAR_FUTURE = "9999-12-31"
# Bumped when the file layout changes; an older file must be rebuilt.
_SCHEMA_VERSION = "2"
# Keyword rows read before grouping by document (a long document has many matching chunks).
_KEYWORD_ROWS = 4 * CANDIDATES
# Query terms found in more than this share of keyword rows are left out of the keyword query: FTS5
# gives them an IDF of ~0 anyway (lossless); a lower share was faster but cost hybrid hit@1 (0.937 -> 0.917).
_COMMON_SHARE = 0.5
# Closest vector rows grouped by document (enough for the best two records of the top documents).
_DENSE_ROWS = 40 * CANDIDATES

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
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, alternatives, body, tokenize = 'unicode61 remove_diacritics 0'
);
"""


class _DenseIndex:
    """In-memory copy of the vectors and filter columns, reloaded when the database changes."""

    def __init__(self, rows: list[tuple[int, str, str, str, str, str, bytes, str]], dim: int) -> None:
        self.rowids = np.array([r[0] for r in rows], dtype=np.int64)
        self.docs = sorted({r[1] for r in rows})
        self.tenant_names = sorted({r[2] for r in rows})
        self.category_names = sorted({r[3] for r in rows})
        codes = {doc: i for i, doc in enumerate(self.docs)}
        tenants = {t: i for i, t in enumerate(self.tenant_names)}
        categories = {c: i for i, c in enumerate(self.category_names)}
        # Integer codes: filtering 20k rows by tenant, category and date is then a few vector compares.
        self.doc_codes = np.array([codes[r[1]] for r in rows], dtype=np.int64)
        self.tenants = np.array([tenants[r[2]] for r in rows], dtype=np.int64)
        self.categories = np.array([categories[r[3]] for r in rows], dtype=np.int64)
        self.valid_from = np.array([_day_number(r[4]) for r in rows], dtype=np.int64)
        self.valid_until = np.array([_day_number(r[5]) for r in rows], dtype=np.int64)
        self.phrasing = np.array([r[7] == "faq" for r in rows], dtype=bool)
        self.matrix = (
            np.frombuffer(b"".join(r[6] for r in rows), dtype=np.float32).reshape(len(rows), dim)
            if rows
            else np.zeros((0, dim), dtype=np.float32)
        )

    def mask(self, where: SearchFilter) -> np.ndarray:
        """Rows valid on the day, in the tenants and categories asked for."""
        tenants = [self.tenant_names.index(t) for t in where.tenants if t in self.tenant_names]
        day = _day_number(where.on_date.isoformat())
        keep = np.isin(self.tenants, tenants) & (self.valid_from <= day) & (self.valid_until >= day)
        if where.categories:
            keep &= np.isin(self.categories, [self.category_names.index(c) for c in where.categories if c in self.category_names])
        return keep


def _day_number(iso: str) -> int:
    """"2026-06-01" -> 20260601 (orders like the date; works for 0000-01-01 and 9999-12-31 too)."""
    return int(iso[:10].replace("-", ""))


class SqliteStore:
    """Persistent embedded store: one SQLite file, BM25F over Korean terms, exact cosine search."""

    def __init__(self, path: Path, analyzer: KoreanAnalyzer, model_id: str, dim: int) -> None:
        """Open (or create) the store at ``path`` for vectors of ``model_id``.

        Raises:
            StoreMismatchError: the file holds vectors of another model, or an older layout (call :meth:`reset`).
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
        # Keep the keyword index in memory: at 20k chunks the default 2 MB page cache rereads it per query.
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.execute("PRAGMA mmap_size=268435456")
        self._db.executescript(_SCHEMA)
        self._db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, fts, 'row')")
        self._dense: _DenseIndex | None = None
        self._term_rows: dict[str, int] = {}
        self._keyword_rows = 0
        self._seen_version = -1
        stored, schema = self._meta("model_id"), self._meta("schema")
        if stored is None:
            self._set_meta("model_id", model_id)
            self._set_meta("dim", str(dim))
            self._set_meta("schema", _SCHEMA_VERSION)
        elif stored != model_id or schema != _SCHEMA_VERSION:
            self._db.close()
            raise StoreMismatchError(
                f"{path} was built with {stored!r} (layout {schema}), not {model_id!r} (layout {_SCHEMA_VERSION}):"
                " rebuild it (`bokji ingest --rebuild`)"
            )

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
                schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            except sqlite3.OperationalError:
                return None
        if row is None:
            return None
        # An older layout reads as another index, so callers rebuild it.
        return str(row[0]) if schema is not None and schema[0] == _SCHEMA_VERSION else f"{row[0]} (layout 1)"

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
        # Analysis runs before the transaction so the write lock is held only for the writes.
        fields = [self._keyword_fields(r.keywords) if r.keywords else None for r in records]
        doc_ids = sorted({r.doc_id for r in records})
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._delete_docs(doc_ids)
                for r, terms in zip(records, fields, strict=True):
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
                            r.valid_from.isoformat() if r.valid_from else _FAR_PAST,
                            r.valid_until.isoformat() if r.valid_until else _FAR_FUTURE,
                            r.content_hash,
                            json.dumps(r.payload, ensure_ascii=False, default=str),
                            np.asarray(r.vector, dtype=np.float32).tobytes(),
                        ),
                    )
                    if terms is not None:
                        self._db.execute(
                            "INSERT INTO fts(rowid, title, alternatives, body) VALUES (?, ?, ?, ?)", (cur.lastrowid, *terms)
                        )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._dense = None

    def _keyword_fields(self, fields: KeywordFields) -> tuple[str, str, str]:
        return (
            " ".join(index_terms(self._analyzer, fields.title)),
            " ".join(index_terms(self._analyzer, fields.alternatives)),
            " ".join(index_terms(self._analyzer, fields.body)),
        )

    def _delete_docs(self, doc_ids: Sequence[str]) -> int:
        removed = 0
        for doc_id in doc_ids:
            self._db.execute("DELETE FROM fts WHERE rowid IN (SELECT rowid FROM records WHERE doc_id = ?)", (doc_id,))
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
        """The payload of a document (of its first record)."""
        with self._lock:
            row = self._db.execute(
                "SELECT payload FROM records WHERE doc_id = ? ORDER BY rowid LIMIT 1", (doc_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def _dense_index(self) -> _DenseIndex:
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if self._dense is None or version != self._seen_version:
            rows = self._db.execute(
                "SELECT rowid, doc_id, tenant, category, valid_from, valid_until, vector, kind FROM records ORDER BY rowid"
            ).fetchall()
            self._dense = _DenseIndex(rows, self.dim)
            self._term_rows = {}
            self._keyword_rows = int(self._db.execute("SELECT COUNT(*) FROM fts").fetchone()[0])
            self._seen_version = version
        return self._dense

    def _informative(self, terms: list[str]) -> list[str]:
        """Query terms minus those in more than half of the keyword rows (``_COMMON_SHARE``).

        FTS5 gives such terms an IDF of ~0 (it clamps negative IDF to 1e-6), so they do not change the
        ranking, but they match most rows, and scoring every match is what made 20k-chunk queries slow.
        """
        self._dense_index()  # refreshes the counts when the database changed
        kept = []
        for term in terms:
            if term not in self._term_rows:
                row = self._db.execute("SELECT doc FROM temp.fts_vocab WHERE term = ?", (term,)).fetchone()
                self._term_rows[term] = int(row[0]) if row else 0
            if self._term_rows[term] <= self._keyword_rows * _COMMON_SHARE:
                kept.append(term)
        return kept

    def _keyword(self, query: str, where: SearchFilter) -> list[Scored]:
        terms = self._informative(sorted(set(query_terms(self._analyzer, query))))
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        weights = ", ".join(str(w) for w in KEYWORD_WEIGHTS)
        marks = ",".join("?" * len(where.tenants))
        sql = (
            f"SELECT r.rowid, r.doc_id, -bm25(fts, {weights}) AS score FROM fts JOIN records r ON r.rowid = fts.rowid"
            f" WHERE fts MATCH ? AND r.tenant IN ({marks}) AND r.valid_from <= ? AND r.valid_until >= ?"
        )
        args: list[Any] = [match, *where.tenants, where.on_date.isoformat(), where.on_date.isoformat()]
        if where.categories:
            sql += f" AND r.category IN ({','.join('?' * len(where.categories))})"
            args.extend(where.categories)
        sql += " ORDER BY score DESC LIMIT ?"
        args.append(_KEYWORD_ROWS)
        return [Scored(str(doc), int(rowid), float(score)) for rowid, doc, score in self._db.execute(sql, args)]

    def _vector(self, vector: np.ndarray, where: SearchFilter) -> list[Scored]:
        """Each candidate document's two closest records (exact search over the filtered rows)."""
        index = self._dense_index()
        if not len(index.rowids):
            return []
        rows = np.flatnonzero(index.mask(where))
        if not rows.size:
            return []
        # One product over the whole matrix, then the filtered rows: cheaper than copying those rows out.
        scores = (index.matrix @ np.asarray(vector, dtype=np.float32))[rows]
        if rows.size > _DENSE_ROWS:
            # Only the closest rows can hold the top documents' two best records: group just those.
            top = np.argpartition(-scores, _DENSE_ROWS)[:_DENSE_ROWS]
            rows, scores = rows[top], scores[top]
        codes = index.doc_codes[rows]
        order = np.lexsort((-scores, codes))  # grouped by document, best record first
        starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
        best = order[starts]
        has_second = np.r_[starts[1:], len(order)] - starts > 1
        second = np.where(has_second, order[np.minimum(starts + 1, len(order) - 1)], best)
        aggregate = np.where(index.phrasing[rows[best]], (scores[best] + scores[second]) / 2, scores[best])
        keep = np.argsort(-aggregate, kind="stable")[:CANDIDATES]
        out: list[Scored] = []
        for g in keep:
            for i in {int(best[g]), int(second[g])}:
                row = rows[i]
                out.append(
                    Scored(index.docs[int(codes[i])], int(index.rowids[row]), float(scores[i]), phrasing=bool(index.phrasing[row]))
                )
        return out

    def search(
        self, query: str, vector: np.ndarray, *, alpha: float = 0.5, k: int = 5, where: SearchFilter | None = None
    ) -> list[Hit]:
        """Hybrid search over documents valid on ``where.on_date`` in ``where.tenants``."""
        where = where or SearchFilter()
        check_alpha(alpha)
        with self._lock:
            # Keyword first: the dense product streams the whole matrix through the CPU caches.
            keyword = self._keyword(query, where) if alpha < 1 else []
            dense = self._vector(vector, where) if alpha > 0 else []
            ranked = rank_documents(dense, keyword, alpha=alpha, k=k)
            if not ranked:
                return []
            marks = ",".join("?" * len(ranked))
            payloads = dict(
                self._db.execute(f"SELECT rowid, payload FROM records WHERE rowid IN ({marks})", [r.record for r in ranked])
            )
        return [Hit(r.doc_id, r.score, r.dense, r.keyword, json.loads(payloads[r.record])) for r in ranked]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
