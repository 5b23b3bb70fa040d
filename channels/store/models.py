"""SQLAlchemy 2 models of everything staff touch: transcripts, handoffs, accounts, notes, audit.

Times are stored as timezone-aware UTC. Text arrives here already masked (see ``knowledge.rules.privacy``).
The schema is owned by the Alembic migrations beside this module; these classes must match them
(``tests/unit/test_store.py`` checks that a migrated database and the models agree).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ROLES = ("agent", "editor", "admin")
TURN_ROLES = ("citizen", "bot", "agent")
# The handoff lifecycle's states (channels/handoff.py owns the transitions).
HANDOFF_STATES = ("waiting", "with_agent", "returned", "closed", "cancelled")
ACTIVE_STATES = ("waiting", "with_agent")
# The knowledge admin (channels/admin/faqs.py owns the transitions).
FAQ_STATES = ("draft", "review", "published", "unpublished")
FAQ_VERSION_STATES = ("draft", "review", "published", "superseded", "rejected")
DOCUMENT_STATES = ("queued", "indexing", "indexed", "needs_text", "failed", "disabled")


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


class KakaoPendingAnswer(Base):
    """A KakaoTalk answer not yet shown to its user: being computed, ready, or delivered (kept until pruned).

    Any web replica may deliver it (channels/kakao_inbox.py): the one that gets the user's next message or the
    one that answers a held callbackUrl. ``claimed_by``/``claimed_at`` is a lease: exactly one replica wins the
    ``UPDATE ... WHERE claimed_by IS NULL``; a claim its replica never finished can be taken again after it.
    """

    __tablename__ = "kakao_pending_answers"
    __table_args__ = (
        CheckConstraint("status IN ('computing', 'ready', 'delivered')", name="kakao_pending_answers_status"),
        Index("kakao_pending_answers_sender", "sender_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(16))
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: the messages, once computed
    computed_by: Mapped[str] = mapped_column(String(160))  # the web process computing it (host:port)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)  # reply / callback


class KakaoCallback(Base):
    """A KakaoTalk callbackUrl held open (one use, valid about a minute): for late answers or a person's reply.

    Whichever replica finishes the answer, gets the staff reply or sees the window end claims the row and
    POSTs to ``url`` once; ``done_at`` says it was used (or given up: the answers then wait for the next message).
    """

    __tablename__ = "kakao_callbacks"
    __table_args__ = (
        CheckConstraint("kind IN ('answers', 'staff')", name="kakao_callbacks_kind"),
        Index("kakao_callbacks_open", "done_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # answers: late bot answers; staff: a person's reply
    url: Mapped[str] = mapped_column(Text)
    upto_answer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # answers: the newest it waits for
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the end of the callback window
    claimed_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class KakaoRecipient(Base):
    """A Kakao user's botUserKey, sealed with the sender-id key, while the Event API may push to them."""

    __tablename__ = "kakao_recipients"

    sender_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    sealed_key: Mapped[str] = mapped_column(Text)  # Fernet token: unreadable without BOKJI_PRIVACY__ID_KEY
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FaqRecord(Base):
    """One FAQ of the knowledge admin: its state and optimistic-lock counter (the texts are its versions)."""

    __tablename__ = "faq_entries"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'review', 'published', 'unpublished')", name="faq_entries_status"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the FaqEntry id
    status: Mapped[str] = mapped_column(String(16), default="draft")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change: optimistic locking
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)


class FaqVersion(Base):
    """One saved text of an FAQ (JSON of the FaqEntry fields); versions are never changed, only their state."""

    __tablename__ = "faq_versions"
    __table_args__ = (
        UniqueConstraint("entry_id", "version", name="faq_versions_entry_version"),
        CheckConstraint("state IN ('draft', 'review', 'published', 'superseded', 'rejected')", name="faq_versions_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("faq_entries.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # JSON of the FaqEntry fields
    state: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)  # None: a command
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DocumentRecord(Base):
    """An uploaded long document (PDF, DOCX, HWPX, HWP): the file kept under <data_dir>/documents/<id>/<version>/."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'indexing', 'indexed', 'needs_text', 'failed', 'disabled')", name="documents_status"
        ),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the LongDocument id
    title: Mapped[str] = mapped_column(String(300))
    tenant: Mapped[str] = mapped_column(String(80), default="national")
    category: Mapped[str] = mapped_column(String(80), default="")
    source_title: Mapped[str] = mapped_column(String(300), default="")
    source_url: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    file_name: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DocumentChunkRecord(Base):
    """One indexed chunk of a document, with where it sits; a disabled chunk is left out of the index."""

    __tablename__ = "document_chunks"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class QuestionTest(Base):
    """A "what would the bot answer?" test: the question and everything the answer was decided on (JSON)."""

    __tablename__ = "question_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)  # JSON: answer text, mode, hits with scores, thresholds, decision
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class InboxResolution(Base):
    """A group of unanswered questions marked as answered, and by which FAQ."""

    __tablename__ = "inbox_resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_key: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)  # a representative, masked question
    entry_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


__all__ = [
    "ACTIVE_STATES",
    "DOCUMENT_STATES",
    "FAQ_STATES",
    "FAQ_VERSION_STATES",
    "HANDOFF_STATES",
    "ROLES",
    "TURN_ROLES",
    "AuditEntry",
    "Base",
    "CannedResponse",
    "ChatEvent",
    "DocumentChunkRecord",
    "DocumentRecord",
    "FaqRecord",
    "FaqVersion",
    "Feedback",
    "Handoff",
    "InboxResolution",
    "KakaoCallback",
    "KakaoDeliveredTurn",
    "KakaoPendingAnswer",
    "KakaoRecipient",
    "Note",
    "QuestionTest",
    "StaffSession",
    "StaffUser",
    "Turn",
    "utcnow",
]
