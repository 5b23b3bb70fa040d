"""SQLAlchemy 2 models of everything staff touch: transcripts, handoffs, accounts, notes, audit.

Times are stored as timezone-aware UTC. Text arrives here already masked (see ``knowledge.rules.privacy``).
The schema is owned by the Alembic migrations beside this module; these classes must match them
(``tests/unit/test_store.py`` checks that a migrated database and the models agree).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ROLES = ("agent", "editor", "admin")
TURN_ROLES = ("citizen", "bot", "agent")
# The handoff lifecycle's states (channels/handoff.py owns the transitions).
HANDOFF_STATES = ("waiting", "with_agent", "returned", "closed", "cancelled")
ACTIVE_STATES = ("waiting", "with_agent")


def utcnow() -> datetime:
    """Now, in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware UTC (SQLite keeps no zone; PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware times only")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of the staff database."""


class Turn(Base):
    """One message of a conversation: the citizen's, the bot's or a staff member's (``agent``)."""

    __tablename__ = "turns"
    __table_args__ = (
        CheckConstraint("role IN ('citizen', 'bot', 'agent')", name="turns_role"),
        Index("turns_sender", "sender_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[str] = mapped_column(Text, default="{}")  # JSON: buttons, sources, mode, decision, label ...
    streaming: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # a streamed answer's placeholder
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)  # agent turns
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Feedback(Base):
    """A citizen's thumbs up or down on one bot message (the latest counts)."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating IN ('up', 'down')", name="feedback_rating"),)

    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id"), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160))
    rating: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StaffUser(Base):
    """A staff account: agents answer chats, editors keep the knowledge, admins do both and manage."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('agent', 'editor', 'admin')", name="staff_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class StaffSession(Base):
    """A signed-in browser (server side: signing out, disabling or a password reset ends it at once)."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Handoff(Base):
    """One request for a person, from ``waiting`` to an end state (see channels/handoff.py)."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint("state IN ('waiting', 'with_agent', 'returned', 'closed', 'cancelled')", name="handoffs_state"),
        Index("handoffs_active", "state", "urgent", "created_at"),
        Index("handoffs_sender", "sender_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    reason: Mapped[str] = mapped_column(String(32))  # requested / crisis / unanswered / disliked
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # urgent and unclaimed past the SLA
    agent_typing_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    citizen_typing_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Note(Base):
    """An internal note on a handoff: staff only, never shown to the citizen."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CannedResponse(Base):
    """A reply agents insert with one click (admins edit the list)."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80), unique=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)


class AuditEntry(Base):
    """Who did what to which chat and when. Append-only: the database rejects UPDATE and DELETE (triggers)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)  # None: the system
    action: Mapped[str] = mapped_column(String(40))
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    sender_id: Mapped[str | None] = mapped_column(String(160), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON


class ChatEvent(Base):
    """Something changed in a conversation (a turn, a state, typing): what live updates follow, by id."""

    __tablename__ = "chat_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # turn / state / typing / note
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KakaoDeliveredTurn(Base):
    """A staff turn (agent reply or handoff notice) that reached a KakaoTalk user: each is delivered once.

    Kakao cannot be pushed to, so staff turns wait until the user's next message, a callbackUrl or the Event
    API carries them (channels/kakao_outbox.py); this row says which way and when, and survives restarts.
    """

    __tablename__ = "kakao_delivered_turns"

    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id"), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    via: Mapped[str] = mapped_column(String(16))  # reply / callback / event_api
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


__all__ = [
    "ACTIVE_STATES",
    "HANDOFF_STATES",
    "ROLES",
    "TURN_ROLES",
    "AuditEntry",
    "Base",
    "CannedResponse",
    "ChatEvent",
    "Feedback",
    "Handoff",
    "KakaoDeliveredTurn",
    "Note",
    "StaffSession",
    "StaffUser",
    "Turn",
    "utcnow",
]
