"""Canned responses: replies agents insert with one click; admins add, edit and delete them (audited)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from channels.handoff import Actor, HandoffError
from channels.store.database import Database
from channels.store.models import AuditEntry, CannedResponse, utcnow

MAX_TITLE_CHARS = 80
MAX_TEXT_CHARS = 2000


class CannedResponses:
    """The list of canned responses; every change is one transaction with its audit entry."""

    def __init__(self, database: Database) -> None:
        """Use the staff database."""
        self.database = database

    def all(self) -> list[dict[str, Any]]:
        """Every canned response, by title."""
        with self.database.session() as session:
            rows = session.scalars(select(CannedResponse).order_by(CannedResponse.title)).all()
            return [_record(r) for r in rows]

    def add(self, actor: Actor, title: str, text: str) -> dict[str, Any]:
        """A new canned response (titles are unique)."""
        try:
            with self.database.session() as session:
                row = CannedResponse(title=title, text=text, updated_at=utcnow(), updated_by=actor.id)
                session.add(row)
                session.flush()
                _audit(session, actor, "canned_added", {"id": row.id, "title": title})
                return _record(row)
        except IntegrityError:
            raise _duplicate(title) from None

    def update(self, actor: Actor, canned_id: int, title: str, text: str) -> dict[str, Any]:
        """Change a canned response's title and text."""
        try:
            with self.database.session() as session:
                row = _row(session.get(CannedResponse, canned_id))
                row.title, row.text, row.updated_at, row.updated_by = title, text, utcnow(), actor.id
                session.flush()
                _audit(session, actor, "canned_edited", {"id": row.id, "title": title})
                return _record(row)
        except IntegrityError:
            raise _duplicate(title) from None

    def delete(self, actor: Actor, canned_id: int) -> None:
        """Remove a canned response."""
        with self.database.session() as session:
            row = _row(session.get(CannedResponse, canned_id))
            _audit(session, actor, "canned_deleted", {"id": row.id, "title": row.title})
            session.delete(row)


def _row(row: CannedResponse | None) -> CannedResponse:
    if row is None:
        raise HandoffError(404, "unknown_canned", "그런 상용구를 찾을 수 없어요.")
    return row


def _duplicate(title: str) -> HandoffError:
    return HandoffError(409, "duplicate_title", f"'{title}' 제목의 상용구가 이미 있어요. 다른 제목을 써 주세요.")


def _audit(session: Any, actor: Actor, action: str, detail: dict[str, Any]) -> None:
    session.add(AuditEntry(at=utcnow(), actor_id=actor.id, action=action, detail=json.dumps(detail, ensure_ascii=False)))


def _record(row: CannedResponse) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "text": row.text, "updated_at": row.updated_at.isoformat()}
