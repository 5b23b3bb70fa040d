"""DocumentService: uploaded long documents (PDF, DOCX, HWPX, HWP), their indexing status and chunks, in the staff database.

The file is kept under ``<data_dir>/documents/<id>/<version>/``; reading, chunking and publishing run in a
background thread while the row says 대기 -> 색인 중 -> 색인 완료 (or 텍스트 필요 for a scanned PDF, 실패 with
the reason). The chunks shown in the admin are exactly the ones indexed (``document_chunks`` of
``knowledge.ingestion.ingest``); a disabled chunk is left out when the document is published again.
Replacing a document keeps its id and bumps its version; its old chunks leave the index.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from channels.admin.publisher import Publisher
from channels.handoff import Actor
from channels.store.database import Database
from channels.store.models import DocumentChunkRecord, DocumentRecord, utcnow
from knowledge.domain.document import DocumentError, LongDocument
from knowledge.ingestion.errors import NeedsTextError, korean_reason
from knowledge.ingestion.ingest import document_chunks
from knowledge.ingestion.loaders import DocumentDefaults, document_id, load_document

log = logging.getLogger(__name__)

SUFFIXES = (".pdf", ".docx", ".hwpx", ".hwp")
STATUS_LABELS = {
    "queued": "대기",
    "indexing": "색인 중",
    "indexed": "색인 완료",
    "needs_text": "텍스트 필요",
    "failed": "실패",
    "disabled": "사용 안 함",
}
Audit = Callable[[Actor | None, str, dict[str, Any]], None]


class DocumentProblem(Exception):
    """A refused request, with the HTTP status and a Korean message for staff."""

    def __init__(self, status: int, message: str) -> None:
        """``status``: 400 bad upload, 404 unknown document or chunk, 409 not possible in this state."""
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as the admin shows it: where it sits and whether it is in the index."""

    index: int
    page: int | None
    heading: str
    text: str
    enabled: bool


@dataclass(frozen=True)
class DocumentRow:
    """A document in the list and on its page."""

    id: str
    title: str
    status: str
    error: str
    version: int
    file_name: str
    chunks: int
    enabled_chunks: int
    updated_at: Any
    source_title: str
    source_url: str
    chunk_rows: list[ChunkRow] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        """대기, 색인 중, 색인 완료, 텍스트 필요, 실패, 사용 안 함."""
        return STATUS_LABELS.get(self.status, self.status)


class DocumentService:
    """Upload, index, list, toggle, replace, disable and enable documents (indexing in background threads)."""

    def __init__(self, database: Database, publisher: Publisher, data_dir: Path, audit: Audit) -> None:
        """``audit`` writes an audit entry (``HandoffService.record``)."""
        self.database = database
        self.publisher = publisher
        self.folder = Path(data_dir) / "documents"
        self.audit = audit
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # --- reading --------------------------------------------------------------------------------------
    def rows(self) -> list[DocumentRow]:
        """Every document, the most recently changed first."""
        with self.database.session() as session:
            records = session.scalars(select(DocumentRecord).order_by(DocumentRecord.updated_at.desc())).all()
            counts: dict[str, int] = {}
            for doc_id in session.scalars(select(DocumentChunkRecord.document_id).where(DocumentChunkRecord.enabled)):
                counts[doc_id] = counts.get(doc_id, 0) + 1
            return [_row(record, counts.get(record.id, 0)) for record in records]

    def get(self, doc_id: str) -> DocumentRow:
        """A document with its chunks (404 when unknown)."""
        with self.database.session() as session:
            record = session.get(DocumentRecord, doc_id)
            if record is None:
                raise DocumentProblem(404, "없는 문서예요. 목록에서 다시 골라 주세요.")
            chunks = [
                ChunkRow(c.chunk_index, c.page, c.heading, c.text, c.enabled)
                for c in session.scalars(
                    select(DocumentChunkRecord)
                    .where(DocumentChunkRecord.document_id == doc_id)
                    .order_by(DocumentChunkRecord.chunk_index)
                )
            ]
            row = _row(record, sum(1 for c in chunks if c.enabled))
        return DocumentRow(**{**row.__dict__, "chunk_rows": chunks})

    # --- changing -------------------------------------------------------------------------------------
    def upload(self, actor: Actor, file_name: str, data: bytes, replace_id: str | None = None) -> str:
        """Keep the file and index it in the background; returns the document id (kept on replace)."""
        name = Path(file_name.replace("\\", "/")).name.strip()
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES:
            raise DocumentProblem(400, "PDF, DOCX, HWPX, HWP 파일만 올릴 수 있어요.")
        if not data:
            raise DocumentProblem(400, "빈 파일이에요. 내용이 있는 파일을 올려 주세요.")
        digest = hashlib.sha256(data).hexdigest()
        with self._lock, self.database.session() as session:
            if replace_id is None:
                doc_id = self._new_id(session, name)
                record = DocumentRecord(id=doc_id, title=Path(name).stem, version=1, created_at=utcnow(), uploaded_by=actor.id)
                session.add(record)
                before = None
            else:
                found = session.get(DocumentRecord, replace_id)
                if found is None:
                    raise DocumentProblem(404, "없는 문서예요. 목록에서 다시 골라 주세요.")
                record, doc_id = found, replace_id
                before = _audit_view(record)
                record.version += 1
            target = self.folder / doc_id / str(record.version) / _safe_name(name, suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            record.file_name, record.stored_path, record.sha256 = name, str(target), digest
            record.status, record.error, record.updated_at, record.uploaded_by = "queued", None, utcnow(), actor.id
            session.execute(delete(DocumentChunkRecord).where(DocumentChunkRecord.document_id == doc_id))
            version, after = record.version, _audit_view(record)
        self.audit(
            actor,
            "document_upload" if before is None else "document_replace",
            {"entry": doc_id, "before": before, "after": after},
        )
        self._start(doc_id, version)
        return doc_id

    def set_chunk(self, actor: Actor, doc_id: str, index: int, enabled: bool) -> None:
        """Use or leave out one chunk; an indexed document is published again without its disabled chunks."""
        with self.database.session() as session:
            chunk = session.get(DocumentChunkRecord, (doc_id, index))
            if chunk is None:
                raise DocumentProblem(404, "없는 조각이에요. 문서 화면을 새로 고쳐 주세요.")
            before = chunk.enabled
            chunk.enabled = enabled
            record = session.get(DocumentRecord, doc_id)
            status = record.status if record else ""
        self.audit(
            actor,
            "document_chunk_toggle",
            {"entry": doc_id, "chunk": index, "before": {"enabled": before}, "after": {"enabled": enabled}},
        )
        if status == "indexed" and before != enabled:
            self._index(doc_id, None)

    def disable(self, actor: Actor, doc_id: str) -> None:
        """Take the whole document out of answers (its file and chunks stay)."""
        before = self._set_status(doc_id, "disabled")
        self.publisher.remove_document(doc_id)
        self.audit(actor, "document_disable", {"entry": doc_id, "before": {"status": before}, "after": {"status": "disabled"}})

    def enable(self, actor: Actor, doc_id: str) -> None:
        """Put a disabled document back: read and published again in the background."""
        before = self._set_status(doc_id, "queued")
        self.audit(actor, "document_enable", {"entry": doc_id, "before": {"status": before}, "after": {"status": "queued"}})
        self._start(doc_id, None)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for background indexing to finish (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    # --- indexing -------------------------------------------------------------------------------------
    def _start(self, doc_id: str, version: int | None) -> None:
        thread = threading.Thread(target=self._index, args=(doc_id, version), name=f"index-{doc_id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _index(self, doc_id: str, version: int | None) -> None:
        """Read, chunk and publish the stored file; the row tells how it went. ``version``: skip if replaced since."""
        with self.database.session() as session:
            record = session.get(DocumentRecord, doc_id)
            if record is None or (version is not None and record.version != version) or record.status == "disabled":
                return
            record.status, record.updated_at = "indexing", utcnow()
            path, version = Path(record.stored_path), record.version
            defaults = DocumentDefaults(tenant=record.tenant or "national", category=record.category or "")
            source = (record.source_title, record.source_url)
            disabled = set(
                session.scalars(
                    select(DocumentChunkRecord.chunk_index).where(
                        DocumentChunkRecord.document_id == doc_id, DocumentChunkRecord.enabled.is_(False)
                    )
                )
            )
        try:
            document = self._read(doc_id, path, defaults, source)
            chunks = document_chunks(document)
            indexed = self.publisher.publish_document(document, disabled)
        except NeedsTextError as exc:
            self._finish(doc_id, version, "needs_text", exc.korean)
        except DocumentError as exc:
            self._finish(doc_id, version, "failed", korean_reason(exc))
        except Exception as exc:  # noqa: BLE001 - the row must say it failed, whatever failed
            log.exception("indexing document %s failed", doc_id)
            self._finish(doc_id, version, "failed", f"색인하다가 문제가 생겼어요: {exc}")
        else:
            self._finish(doc_id, version, "indexed", None, document, chunks, disabled, indexed)

    def _read(self, doc_id: str, path: Path, defaults: DocumentDefaults, source: tuple[str, str]) -> LongDocument:
        document = load_document(path, defaults)
        title = document.title if _has_words(document.title) else path.stem
        source_title = source[0] if _has_words(source[0]) else title
        return document.model_copy(
            update={
                "id": doc_id,
                "title": title,
                "source": document.source.model_copy(update={"title": source_title, "url": source[1] or document.source.url}),
                "updated_at": date.today(),
            }
        )

    def _finish(
        self,
        doc_id: str,
        version: int,
        status: str,
        error: str | None,
        document: LongDocument | None = None,
        chunks: list[tuple[str, str, int, int | None]] | None = None,
        disabled: set[int] | None = None,
        indexed: int = 0,
    ) -> None:
        with self.database.session() as session:
            record = session.get(DocumentRecord, doc_id)
            if record is None or record.version != version:
                return  # replaced meanwhile: the newer version's thread reports
            if status != "indexed":
                session.execute(delete(DocumentChunkRecord).where(DocumentChunkRecord.document_id == doc_id))
                record.chunks = 0
            elif document is not None and chunks is not None:
                session.execute(delete(DocumentChunkRecord).where(DocumentChunkRecord.document_id == doc_id))
                session.add_all(
                    DocumentChunkRecord(
                        document_id=doc_id,
                        chunk_index=i,
                        page=page,
                        heading=heading,
                        text=text,
                        enabled=i not in (disabled or set()),
                    )
                    for heading, text, i, page in chunks
                )
                record.title, record.chunks = document.title, len(chunks)
                record.source_title = record.source_title or document.source.title
                record.pages = max((p for _, _, _, p in chunks if p), default=None)
            record.status, record.error, record.updated_at = status, error, utcnow()
        if status != "indexed":
            self.publisher.remove_document(doc_id)  # the index holds what the list says: nothing of a failed version
        else:
            log.info("document %s v%s: %s of %s chunks indexed", doc_id, version, indexed, len(chunks or []))

    def _set_status(self, doc_id: str, status: str) -> str:
        with self.database.session() as session:
            record = session.get(DocumentRecord, doc_id)
            if record is None:
                raise DocumentProblem(404, "없는 문서예요. 목록에서 다시 골라 주세요.")
            before = record.status
            record.status, record.updated_at = status, utcnow()
            return before

    def _new_id(self, session: Any, name: str) -> str:
        base = document_id(Path(name))
        candidate, n = base, 1
        while session.get(DocumentRecord, candidate) is not None:
            n += 1
            candidate = f"{base[:74]}-{n}"
        return candidate


def _row(record: DocumentRecord, enabled: int) -> DocumentRow:
    return DocumentRow(
        id=record.id,
        title=record.title,
        status=record.status,
        error=record.error or "",
        version=record.version,
        file_name=record.file_name,
        chunks=record.chunks,
        enabled_chunks=enabled,
        updated_at=record.updated_at,
        source_title=record.source_title,
        source_url=record.source_url,
    )


def _audit_view(record: DocumentRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "version": record.version,
        "file_name": record.file_name,
        "sha256": record.sha256,
        "status": record.status,
    }


def _has_words(text: str) -> bool:
    return len(re.findall(r"[가-힣A-Za-z]", text or "")) >= 2


def _safe_name(name: str, suffix: str) -> str:
    """The stored file's name: the upload's, without anything a path could misuse."""
    stem = re.sub(r"[^\w.\-가-힣 ]+", "_", Path(name).stem).strip(" .") or "document"
    return f"{stem[:100]}{suffix}"
