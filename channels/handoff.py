"""The handoff lifecycle: one state machine every channel and the console go through.

States of a conversation: ``bot`` (no active handoff) -> ``waiting`` -> ``with_agent`` -> back to ``bot``
(``returned``) or ``closed``; a citizen may cancel while waiting (``cancelled``). Nothing else changes a
conversation's state. Each transition is one transaction that also writes the audit entry and the live
update event, so the console, the widget and a restarted app all see the same thing.

Who may do what: agents and admins work the queue; only the agent holding a chat replies to, transfers,
returns or closes it (an admin may step in); editors keep the knowledge and have no chats.
Claims are a conditional UPDATE (``WHERE state = 'waiting'``): of two agents claiming at once exactly
one row update succeeds, on SQLite and PostgreSQL alike; the other is told who has it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from channels.settings import HandoffSettings
from channels.store.database import Database
from channels.store.models import ACTIVE_STATES, AuditEntry, ChatEvent, Handoff, Note, StaffSession, StaffUser, utcnow
from channels.store.transcripts import TranscriptStore

logger = logging.getLogger(__name__)

REASONS = {
    "requested": "상담 요청",
    "crisis": "위기 신호",
    "unanswered": "챗봇이 답하지 못함",
    "disliked": "답변에 👎 후 같은 질문",
}
STATE_LABELS = {
    "waiting": "대기 중",
    "with_agent": "상담 중",
    "returned": "챗봇으로 돌려보냄",
    "closed": "종료",
    "cancelled": "시민이 취소",
}
WORKS_CHATS = ("agent", "admin")
MAX_REPLY_CHARS = 2000
MAX_CLOSE_REASON_CHARS = 200

# What the citizen reads at each step (recorded as bot turns with meta.handoff_state, shown by every channel).
JOINED = "상담원이 연결되었어요. 지금부터 상담원이 직접 답해 드려요."
RETURNED = "상담원과의 상담이 끝났어요. 이제 다시 챗봇이 답해 드려요. 더 궁금한 점을 편하게 물어봐 주세요."
CLOSED = "상담이 종료되었어요. 이용해 주셔서 고맙습니다. 궁금한 점이 또 생기면 언제든 다시 물어봐 주세요."
CANCELLED = "상담원 연결 요청을 취소했어요. 이제 다시 챗봇이 답해 드려요."


class HandoffError(Exception):
    """A transition that is not allowed; ``status`` is the HTTP status the console answers with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep the status, a stable code and a Korean message for staff."""
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ClaimConflictError(HandoffError):
    """Someone else already holds the chat."""

    def __init__(self, holder: str) -> None:
        """Name who has it."""
        super().__init__(409, "already_claimed", f"{holder}님이 이미 이 상담을 맡았어요.")
        self.holder = holder


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member acting on a chat."""

    id: int
    name: str
    role: str


@dataclass(frozen=True)
class HandoffView:
    """A handoff as the console and channels read it."""

    id: int
    sender_id: str
    channel: str
    state: str
    reason: str
    urgent: bool
    created_at: datetime
    agent_id: int | None
    agent_name: str | None
    claimed_at: datetime | None
    ended_at: datetime | None
    close_reason: str | None
    escalated: bool
    agent_typing: bool
    citizen_typing: bool

    @property
    def active(self) -> bool:
        """Waiting for or with a person."""
        return self.state in ACTIVE_STATES

    def as_json(self, now: datetime | None = None) -> dict[str, Any]:
        """The console's JSON shape (times as ISO strings, the wait in seconds)."""
        now = now or utcnow()
        return {
            "id": self.id,
            "sender_id": self.sender_id,
            "channel": self.channel,
            "state": self.state,
            "state_label": STATE_LABELS[self.state],
            "reason": self.reason,
            "reason_label": REASONS.get(self.reason, self.reason),
            "urgent": self.urgent,
            "created_at": self.created_at.isoformat(),
            "waiting_s": int(((self.claimed_at or self.ended_at or now) - self.created_at).total_seconds()),
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "close_reason": self.close_reason,
            "escalated": self.escalated,
            "agent_typing": self.agent_typing,
            "citizen_typing": self.citizen_typing,
        }


def channel_of(sender_id: str) -> str:
    """``web:…`` -> web, ``kakao:…`` -> kakao, anything else -> api."""
    prefix = sender_id.split(":", 1)[0]
    return prefix if prefix in ("web", "kakao") else "api"


class HandoffService:
    """Every handoff transition, with its audit entry, live event and citizen-facing notice."""

    def __init__(self, database: Database, transcripts: TranscriptStore, settings: HandoffSettings) -> None:
        """Use the staff database, the transcripts (notices are turns) and the handoff settings."""
        self.database = database
        self.transcripts = transcripts
        self.settings = settings
        self.hours = settings.hours()
        self._staff_turn_listeners: list[Callable[[str], None]] = []

    def on_staff_turn(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(sender_id)`` after a reply or notice for the citizen is recorded (Kakao delivers it)."""
        self._staff_turn_listeners.append(listener)

    # --- the citizen's side -------------------------------------------------------------------------------

    def active(self, sender_id: str) -> HandoffView | None:
        """The conversation's waiting or ongoing handoff, if any."""
        with self.database.session() as session:
            row = session.scalars(
                select(Handoff)
                .where(Handoff.sender_id == sender_id, Handoff.state.in_(ACTIVE_STATES))
                .order_by(Handoff.id.desc())
            ).first()
            return self._view(session, row) if row else None

    def request(self, sender_id: str, reason: str, urgent: bool = False) -> tuple[HandoffView, bool]:
        """Queue the chat for a person (or make its waiting request urgent); True when it is newly queued."""
        with self.database.session() as session:
            row = session.scalars(
                select(Handoff).where(Handoff.sender_id == sender_id, Handoff.state.in_(ACTIVE_STATES)).with_for_update()
            ).first()
            created = row is None
            if row is None:
                row = Handoff(sender_id=sender_id, channel=channel_of(sender_id), state="waiting", reason=reason,
                              urgent=urgent, created_at=utcnow())  # fmt: skip
                session.add(row)
                session.flush()
                self._record(session, None, "requested", row, {"reason": reason, "urgent": urgent})
            elif urgent and not row.urgent:
                row.urgent, row.reason = True, reason
                self._record(session, None, "made_urgent", row, {"reason": reason})
            return self._view(session, row), created

    def cancel(self, sender_id: str) -> HandoffView | None:
        """The citizen stops waiting and goes back to the bot (None when nothing was waiting)."""
        with self.database.session() as session:
            row = session.scalars(select(Handoff).where(Handoff.sender_id == sender_id, Handoff.state == "waiting")).first()
            if row is None:
                return None
            row.state, row.ended_at = "cancelled", utcnow()
            self._record(session, None, "cancelled", row, {})
            view = self._view(session, row)
        self._notify(sender_id, CANCELLED, "cancelled")
        return view

    def citizen_typing(self, sender_id: str) -> None:
        """The citizen is typing in a chat a person holds (shown in the console for a few seconds)."""
        with self.database.session() as session:
            row = session.scalars(select(Handoff).where(Handoff.sender_id == sender_id, Handoff.state == "with_agent")).first()
            if row is not None:
                row.citizen_typing_until = utcnow() + timedelta(seconds=self.settings.typing_s)
                session.add(ChatEvent(sender_id=sender_id, kind="typing", handoff_id=row.id, created_at=utcnow()))

    def on_duty(self, now: datetime | None = None) -> bool:
        """Inside office hours and at least one agent has the console open."""
        now = now or utcnow()
        if not self.hours.is_open(now):
            return False
        since = now - timedelta(seconds=self.settings.presence_s)
        with self.database.session() as session:
            present = session.scalar(
                select(func.count()).select_from(StaffSession).join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.last_seen_at >= since, StaffUser.active.is_(True), StaffUser.role.in_(WORKS_CHATS))
            )  # fmt: skip
        return bool(present)

    def position(self, handoff_id: int) -> int:
        """1 for the next chat an agent will take (urgent first, then the longest waiting)."""
        with self.database.session() as session:
            queue = session.scalars(select(Handoff.id).where(Handoff.state == "waiting").order_by(
                Handoff.urgent.desc(), Handoff.created_at, Handoff.id)).all()  # fmt: skip
        return queue.index(handoff_id) + 1 if handoff_id in queue else 0

    # --- the console's side -------------------------------------------------------------------------------

    def queue(self, now: datetime | None = None) -> list[HandoffView]:
        """Waiting and ongoing chats: urgent first, then by how long they have waited. Flags overdue urgent ones."""
        self.escalate_overdue(now)
        with self.database.session() as session:
            rows = session.scalars(select(Handoff).where(Handoff.state.in_(ACTIVE_STATES)).order_by(
                Handoff.state.desc(), Handoff.urgent.desc(), Handoff.created_at, Handoff.id)).all()  # fmt: skip
            views = [self._view(session, r) for r in rows]
        waiting = [v for v in views if v.state == "waiting"]
        return waiting + [v for v in views if v.state != "waiting"]

    def waiting_now(self) -> tuple[int, datetime | None]:
        """How many chats wait for a person and since when the oldest has waited (read only: metrics scrape it)."""
        with self.database.session() as session:
            count, oldest = session.execute(
                select(func.count(Handoff.id), func.min(Handoff.created_at)).where(Handoff.state == "waiting")
            ).one()
        return int(count), oldest

    def get(self, handoff_id: int) -> HandoffView:
        """One handoff, or a 404 error."""
        with self.database.session() as session:
            return self._view(session, self._row(session, handoff_id))

    def history(self, sender_id: str) -> list[HandoffView]:
        """Every handoff of one conversation, newest first."""
        with self.database.session() as session:
            rows = session.scalars(select(Handoff).where(Handoff.sender_id == sender_id).order_by(Handoff.id.desc())).all()
            return [self._view(session, r) for r in rows]

    def opened(self, handoff_id: int, actor: Actor) -> HandoffView:
        """An agent opened the chat (audited: who read which conversation)."""
        _works_chats(actor)
        with self.database.session() as session:
            row = self._row(session, handoff_id)
            self._record(session, actor, "opened", row, {}, event=False)
            return self._view(session, row)

    def claim(self, handoff_id: int, actor: Actor) -> HandoffView:
        """Take a waiting chat. Exactly one of several agents claiming at once wins.

        Raises:
            ClaimConflictError: someone else holds it.
            HandoffError: it is not waiting any more (returned, closed, cancelled) or the actor may not.
        """
        _works_chats(actor)
        with self.database.session() as session:
            claim = update(Handoff).where(Handoff.id == handoff_id, Handoff.state == "waiting")
            won = cast("CursorResult[Any]", session.execute(
                claim.values(state="with_agent", agent_id=actor.id, claimed_at=utcnow())
            )).rowcount  # fmt: skip
            row = self._row(session, handoff_id)
            if not won:
                if row.state == "with_agent" and row.agent_id is not None:
                    if row.agent_id == actor.id:
                        return self._view(session, row)
                    raise ClaimConflictError(self._name(session, row.agent_id))
                raise HandoffError(409, "not_waiting", f"이 상담은 이미 '{STATE_LABELS[row.state]}' 상태예요.")
            self._record(session, actor, "claimed", row, {})
            view = self._view(session, row)
        self._notify(view.sender_id, JOINED, "with_agent")
        return view

    def reply(self, handoff_id: int, actor: Actor, text: str) -> int:
        """The holding agent's message to the citizen; returns its turn id."""
        text = _clean(text, MAX_REPLY_CHARS, "답장")
        with self.database.session() as session:
            row = self._held(session, handoff_id, actor)
            row.agent_typing_until = None
            self._record(session, actor, "replied", row, {"chars": len(text)}, event=False)
            sender_id = row.sender_id
        turn_id = self.transcripts.add_turn(
            sender_id, "agent", text, {"handoff_id": handoff_id, "agent": actor.name}, author_id=actor.id
        )
        self._staff_turn(sender_id)
        return turn_id

    def agent_typing(self, handoff_id: int, actor: Actor) -> None:
        """The holding agent is typing (the citizen sees it for a few seconds)."""
        with self.database.session() as session:
            row = self._held(session, handoff_id, actor)
            row.agent_typing_until = utcnow() + timedelta(seconds=self.settings.typing_s)
            session.add(ChatEvent(sender_id=row.sender_id, kind="typing", handoff_id=row.id, created_at=utcnow()))

    def note(self, handoff_id: int, actor: Actor, text: str) -> int:
        """An internal note (staff only); returns its id."""
        _works_chats(actor)
        text = _clean(text, MAX_REPLY_CHARS, "메모")
        with self.database.session() as session:
            row = self._row(session, handoff_id)
            note = Note(handoff_id=row.id, author_id=actor.id, text=text, created_at=utcnow())
            session.add(note)
            session.flush()
            self._record(session, actor, "noted", row, {"note_id": note.id}, kind="note")
            return note.id

    def notes(self, handoff_id: int) -> list[dict[str, Any]]:
        """The notes on one conversation's handoffs, oldest first."""
        with self.database.session() as session:
            sender_id = self._row(session, handoff_id).sender_id
            rows = session.execute(
                select(Note, StaffUser.display_name).join(StaffUser, StaffUser.id == Note.author_id)
                .join(Handoff, Handoff.id == Note.handoff_id).where(Handoff.sender_id == sender_id).order_by(Note.id)
            ).all()  # fmt: skip
        return [{"id": n.id, "handoff_id": n.handoff_id, "author": name, "text": n.text,
                 "created_at": n.created_at.isoformat()} for n, name in rows]  # fmt: skip

    def transfer(self, handoff_id: int, actor: Actor, to_user_id: int) -> HandoffView:
        """Give the chat to another agent who is active."""
        with self.database.session() as session:
            row = self._held(session, handoff_id, actor)
            target = session.get(StaffUser, to_user_id)
            if target is None or not target.active or target.role not in WORKS_CHATS:
                raise HandoffError(400, "invalid_agent", "상담을 넘겨받을 수 있는 상담원을 골라 주세요.")
            if target.id == row.agent_id:
                raise HandoffError(400, "same_agent", "이미 그 상담원이 맡고 있어요.")
            previous = row.agent_id
            row.agent_id, row.claimed_at = target.id, utcnow()
            self._record(session, actor, "transferred", row, {"from": previous, "to": target.id})
            return self._view(session, row)

    def return_to_bot(self, handoff_id: int, actor: Actor) -> HandoffView:
        """End the person's part: the citizen is told, and the bot answers the next question."""
        with self.database.session() as session:
            row = self._held(session, handoff_id, actor)
            row.state, row.ended_at, row.agent_typing_until = "returned", utcnow(), None
            self._record(session, actor, "returned", row, {})
            view = self._view(session, row)
        self._notify(view.sender_id, RETURNED, "returned")
        return view

    def close(self, handoff_id: int, actor: Actor, reason: str) -> HandoffView:
        """Close the chat with a reason (a waiting chat too, e.g. a duplicate)."""
        reason = _clean(reason, MAX_CLOSE_REASON_CHARS, "종료 사유")
        with self.database.session() as session:
            row = self._row(session, handoff_id)
            if row.state == "waiting":
                _works_chats(actor)
            else:
                row = self._held(session, handoff_id, actor)
            row.state, row.ended_at, row.close_reason, row.agent_typing_until = "closed", utcnow(), reason, None
            self._record(session, actor, "closed", row, {"reason": reason})
            view = self._view(session, row)
        self._notify(view.sender_id, CLOSED, "closed")
        return view

    def escalate_overdue(self, now: datetime | None = None) -> list[int]:
        """Flag urgent chats nobody claimed within the SLA (once each, audited); returns their ids."""
        now = now or utcnow()
        cutoff = now - timedelta(minutes=self.settings.urgent_sla_minutes)
        with self.database.session() as session:
            rows = session.scalars(select(Handoff).where(
                Handoff.state == "waiting", Handoff.urgent.is_(True), Handoff.escalated_at.is_(None), Handoff.created_at <= cutoff
            )).all()  # fmt: skip
            for row in rows:
                row.escalated_at = now
                self._record(session, None, "escalated", row, {"sla_minutes": self.settings.urgent_sla_minutes})
            return [r.id for r in rows]

    def agents(self) -> list[dict[str, Any]]:
        """Active staff who can take a chat (for transfers)."""
        with self.database.session() as session:
            rows = session.scalars(select(StaffUser).where(StaffUser.active.is_(True), StaffUser.role.in_(WORKS_CHATS)).order_by(
                StaffUser.display_name)).all()  # fmt: skip
        return [{"id": u.id, "name": u.display_name, "role": u.role} for u in rows]

    def audit(self, limit: int = 200, before_id: int | None = None) -> list[dict[str, Any]]:
        """The audit log, newest first (admins read it; nobody can change it)."""
        query = select(AuditEntry, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == AuditEntry.actor_id)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        with self.database.session() as session:
            rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
        return [{"id": e.id, "at": e.at.isoformat(), "actor": name or "시스템", "action": e.action,
                 "handoff_id": e.handoff_id, "sender_id": e.sender_id, "detail": json.loads(e.detail)}
                for e, name in rows]  # fmt: skip

    def record(self, actor: Actor | None, action: str, detail: dict[str, Any], handoff_id: int | None = None) -> None:
        """An audit entry for something outside the chat lifecycle (sign-in, canned responses ...)."""
        with self.database.session() as session:
            session.add(AuditEntry(at=utcnow(), actor_id=actor.id if actor else None, action=action, handoff_id=handoff_id,
                                   detail=json.dumps(detail, ensure_ascii=False)))  # fmt: skip

    def last_event_id(self) -> int:
        """The newest live-update event (0 when none)."""
        with self.database.session() as session:
            return int(session.scalar(select(func.max(ChatEvent.id))) or 0)

    def events_after(self, after_id: int, sender_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Live-update events newer than ``after_id`` (of one conversation when ``sender_id`` is given)."""
        query = select(ChatEvent).where(ChatEvent.id > after_id)
        if sender_id is not None:
            query = query.where(ChatEvent.sender_id == sender_id)
        with self.database.session() as session:
            rows = session.scalars(query.order_by(ChatEvent.id).limit(limit)).all()
        return [{"id": e.id, "sender_id": e.sender_id, "kind": e.kind, "handoff_id": e.handoff_id} for e in rows]

    # --- internals ----------------------------------------------------------------------------------------

    def _notify(self, sender_id: str, text: str, state: str) -> None:
        """Tell the citizen what changed (a bot turn every channel shows, live and in history)."""
        self.transcripts.add_turn(sender_id, "bot", text, {"mode": "handoff", "handoff_state": state})
        self._staff_turn(sender_id)

    def _staff_turn(self, sender_id: str) -> None:
        """Tell the listeners; the staff action already succeeded, so a failing listener is only logged."""
        for listener in self._staff_turn_listeners:
            try:
                listener(sender_id)
            except Exception:
                logger.exception("handoff: a staff-turn listener failed for %s", sender_id)

    def _row(self, session: Session, handoff_id: int) -> Handoff:
        row = session.get(Handoff, handoff_id, populate_existing=True)
        if row is None:
            raise HandoffError(404, "unknown_chat", "그런 상담을 찾을 수 없어요.")
        return row

    def _held(self, session: Session, handoff_id: int, actor: Actor) -> Handoff:
        """The chat, when ``actor`` holds it (or is an admin and someone does)."""
        _works_chats(actor)
        row = self._row(session, handoff_id)
        if row.state != "with_agent":
            raise HandoffError(
                409, "not_with_agent", f"이 상담은 '{STATE_LABELS[row.state]}' 상태라서 할 수 없어요. 먼저 맡아 주세요."
            )
        if row.agent_id != actor.id and actor.role != "admin":
            raise HandoffError(403, "not_yours", f"{self._name(session, row.agent_id)}님이 맡은 상담이에요.")
        return row

    def _name(self, session: Session, user_id: int | None) -> str:
        user = session.get(StaffUser, user_id) if user_id is not None else None
        return user.display_name if user else "다른 상담원"

    def _record(
        self, session: Session, actor: Actor | None, action: str, row: Handoff, detail: dict[str, Any],
        *, event: bool = True, kind: str = "state",
    ) -> None:  # fmt: skip
        session.add(AuditEntry(at=utcnow(), actor_id=actor.id if actor else None, action=action, handoff_id=row.id,
                               sender_id=row.sender_id, detail=json.dumps(detail, ensure_ascii=False)))  # fmt: skip
        if event:
            session.add(ChatEvent(sender_id=row.sender_id, kind=kind, handoff_id=row.id, created_at=utcnow()))

    def _view(self, session: Session, row: Handoff) -> HandoffView:
        now = utcnow()
        return HandoffView(
            id=row.id, sender_id=row.sender_id, channel=row.channel, state=row.state, reason=row.reason,
            urgent=bool(row.urgent), created_at=row.created_at, agent_id=row.agent_id,
            agent_name=self._name(session, row.agent_id) if row.agent_id else None, claimed_at=row.claimed_at,
            ended_at=row.ended_at, close_reason=row.close_reason, escalated=row.escalated_at is not None,
            agent_typing=bool(row.agent_typing_until and row.agent_typing_until > now),
            citizen_typing=bool(row.citizen_typing_until and row.citizen_typing_until > now),
        )  # fmt: skip


def _works_chats(actor: Actor) -> None:
    if actor.role not in WORKS_CHATS:
        raise HandoffError(403, "forbidden", "상담 화면은 상담원과 관리자만 쓸 수 있어요.")


def _clean(text: Any, limit: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise HandoffError(400, "empty_text", f"{what} 내용을 입력해 주세요.")
    text = text.strip()
    if len(text) > limit:
        raise HandoffError(400, "text_too_long", f"{what}은(는) {limit:,}자 이내로 써 주세요.")
    return text
