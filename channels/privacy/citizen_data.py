"""One citizen's conversation, exported or erased on their request (PIPA: access and deletion).

Both are recorded in the append-only audit log with who, when, which sender and how many rows, never the
text. An erase removes the turns, ratings, Kakao delivery records, live-update events, ended handoffs and
their internal notes of that sender in one transaction, then empties Rasa's tracker and whatever the web
app holds in memory. A conversation a person is handling (waiting or with an agent) is not erased: the
agent closes it first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from channels.handoff import Actor, HandoffError
from channels.store.database import Database
from channels.store.models import (
    ACTIVE_STATES,
    AuditEntry,
    ChatEvent,
    Feedback,
    Handoff,
    KakaoDeliveredTurn,
    Note,
    StaffUser,
    Turn,
    utcnow,
)

SENDER_ID = re.compile(r"^[A-Za-z0-9_.:=+/-]{1,160}$")
INVALID = "대화 ID를 확인해 주세요. 'web:' 또는 'kakao:'로 시작하는 ID나 위젯의 세션 ID를 적어 주세요."
UNKNOWN = "그 ID로 저장된 대화가 없어요."
ACTIVE = "상담원이 맡고 있거나 기다리는 상담이라 지금은 삭제할 수 없어요. 상담을 먼저 종료해 주세요."


class TrackerEraser(Protocol):
    """Empties a conversation in the dialogue engine (Rasa's tracker store)."""

    def erase(self, sender_id: str) -> bool:
        """True when the engine no longer holds the conversation."""
        ...

    def count(self, sender_id: str) -> int:
        """How many events the engine holds of the conversation (0 when it cannot be reached)."""
        ...


@dataclass(frozen=True)
class Counts:
    """How many rows of one conversation there are (or were deleted)."""

    turns: int = 0
    feedback: int = 0
    handoffs: int = 0
    notes: int = 0
    deliveries: int = 0
    events: int = 0
    rasa_events: int = 0

    @property
    def empty(self) -> bool:
        """Nothing stored under this sender."""
        return not (self.turns or self.handoffs)

    def as_dict(self) -> dict[str, int]:
        """The counts by name (what the audit entry records)."""
        return asdict(self)


def parse_sender_id(value: Any) -> str:
    """A sender id as staff type it: ``web:…``, ``kakao:…`` or ``api:…``; a bare widget session id means ``web:…``."""
    text = value.strip() if isinstance(value, str) else ""
    if not SENDER_ID.match(text):
        raise HandoffError(400, "invalid_sender", INVALID)
    return text if ":" in text else f"web:{text}"


class CitizenData:
    """Export and erase one sender's data, with an audit entry for each."""

    def __init__(
        self,
        database: Database,
        tracker: TrackerEraser | None = None,
        forget: Callable[[str], None] | None = None,
    ) -> None:
        """Use the staff database; ``tracker`` empties Rasa's copy and ``forget`` what the app holds in memory."""
        self.database = database
        self._tracker = tracker
        self._forget = forget

    def counts(self, sender_id: str) -> Counts:
        """What is stored under ``sender_id`` (the confirmation page shows it)."""
        with self.database.session() as session:
            found = self._counts(session, sender_id)
        return replace(found, rasa_events=self._tracker.count(sender_id)) if self._tracker is not None else found

    def export(self, sender_id: str, actor: Actor | None) -> dict[str, Any]:
        """The whole conversation as JSON-ready data (turns with ratings, handoffs with notes); audited."""
        with self.database.session() as session:
            turns = session.execute(
                select(Turn, Feedback.rating)
                .outerjoin(Feedback, Feedback.turn_id == Turn.id)
                .where(Turn.sender_id == sender_id)
                .order_by(Turn.id)
            ).all()
            handoffs = session.scalars(select(Handoff).where(Handoff.sender_id == sender_id).order_by(Handoff.id)).all()
            if not turns and not handoffs:
                raise HandoffError(404, "unknown_sender", UNKNOWN)
            names = dict(session.execute(select(StaffUser.id, StaffUser.display_name)).tuples().all())
            notes = session.scalars(select(Note).where(Note.handoff_id.in_([h.id for h in handoffs])).order_by(Note.id)).all()
            data = {
                "sender_id": sender_id,
                "exported_at": utcnow().isoformat(),
                "turns": [_turn(t, rating, names) for t, rating in turns],
                "handoffs": [_handoff(h, [n for n in notes if n.handoff_id == h.id], names) for h in handoffs],
            }
            detail = {"turns": len(turns), "handoffs": len(handoffs), "notes": len(notes)}
            session.add(_audit(actor, "citizen_exported", sender_id, detail))
        return data

    def delete(self, sender_id: str, actor: Actor | None) -> Counts:
        """Erase everything stored under ``sender_id``; 409 while a person handles it, 404 when nothing is stored."""
        with self.database.session() as session:
            self._erasable(session, sender_id)
        # Rasa first, outside the transaction: a slow or stopped Rasa must not hold the database's write lock.
        rasa_events = self._tracker.count(sender_id) if self._tracker is not None else 0
        erased = self._tracker.erase(sender_id) if self._tracker is not None else False
        with self.database.session() as session:
            self._erasable(session, sender_id)  # nothing changed meanwhile (a new handoff, another admin's erase)
            turn_ids = select(Turn.id).where(Turn.sender_id == sender_id)
            handoff_ids = select(Handoff.id).where(Handoff.sender_id == sender_id)
            done = Counts(
                feedback=deleted_rows(session, delete(Feedback).where(Feedback.turn_id.in_(turn_ids))),
                deliveries=deleted_rows(session, delete(KakaoDeliveredTurn).where(KakaoDeliveredTurn.turn_id.in_(turn_ids))),
                notes=deleted_rows(session, delete(Note).where(Note.handoff_id.in_(handoff_ids))),
                handoffs=deleted_rows(session, delete(Handoff).where(Handoff.sender_id == sender_id)),
                events=deleted_rows(session, delete(ChatEvent).where(ChatEvent.sender_id == sender_id)),
                turns=deleted_rows(session, delete(Turn).where(Turn.sender_id == sender_id)),
                rasa_events=rasa_events if erased else 0,
            )
            session.add(_audit(actor, "citizen_deleted", sender_id, {**done.as_dict(), "rasa_tracker": erased}))
        if self._forget is not None:
            self._forget(sender_id)
        return done

    def _erasable(self, session: Session, sender_id: str) -> None:
        """Raise 409 while a person handles the conversation, 404 when nothing is stored under ``sender_id``."""
        active = session.scalar(
            select(func.count()).select_from(Handoff).where(Handoff.sender_id == sender_id, Handoff.state.in_(ACTIVE_STATES))
        )
        if active:
            raise HandoffError(409, "chat_active", ACTIVE)
        if self._counts(session, sender_id).empty:
            raise HandoffError(404, "unknown_sender", UNKNOWN)

    def _counts(self, session: Session, sender_id: str) -> Counts:
        def count(query: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

        turn_ids = select(Turn.id).where(Turn.sender_id == sender_id)
        handoff_ids = select(Handoff.id).where(Handoff.sender_id == sender_id)
        return Counts(
            turns=count(turn_ids),
            feedback=count(select(Feedback.turn_id).where(Feedback.turn_id.in_(turn_ids))),
            handoffs=count(handoff_ids),
            notes=count(select(Note.id).where(Note.handoff_id.in_(handoff_ids))),
            deliveries=count(select(KakaoDeliveredTurn.turn_id).where(KakaoDeliveredTurn.turn_id.in_(turn_ids))),
            events=count(select(ChatEvent.id).where(ChatEvent.sender_id == sender_id)),
        )


def deleted_rows(session: Session, statement: Any) -> int:
    """Run a DELETE and return how many rows it removed."""
    return int(cast("CursorResult[Any]", session.execute(statement)).rowcount or 0)


def _audit(actor: Actor | None, action: str, sender_id: str, detail: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        at=utcnow(), actor_id=actor.id if actor else None, action=action, sender_id=sender_id,
        detail=json.dumps(detail, ensure_ascii=False),
    )  # fmt: skip


def _turn(turn: Turn, rating: str | None, names: dict[int, str]) -> dict[str, Any]:
    meta = json.loads(turn.meta or "{}")
    record: dict[str, Any] = {"id": turn.id, "at": turn.created_at.isoformat(), "role": turn.role, "text": turn.text}
    if isinstance(meta.get("label"), str):
        record["label"] = meta["label"]
    if turn.author_id is not None:
        record["agent"] = names.get(turn.author_id, "상담원")
    if rating:
        record["rating"] = rating
    return record


def _handoff(handoff: Handoff, notes: list[Note], names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": handoff.id,
        "state": handoff.state,
        "reason": handoff.reason,
        "urgent": bool(handoff.urgent),
        "created_at": handoff.created_at.isoformat(),
        "ended_at": handoff.ended_at.isoformat() if handoff.ended_at else None,
        "agent": names.get(handoff.agent_id) if handoff.agent_id else None,
        "notes": [{"at": n.created_at.isoformat(), "author": names.get(n.author_id, ""), "text": n.text} for n in notes],
    }
