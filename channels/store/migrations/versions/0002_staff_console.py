"""Staff console: typed transcripts, the handoff lifecycle, accounts, notes, canned replies, audit log.

Legacy rows are copied, not lost: ISO-text times become timestamps, an ``open`` handoff becomes
``waiting``, a streamed answer's placeholder keeps its flag in ``turns.streaming``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

from channels.store.models import UtcDateTime

revision = "0002"
down_revision = "0001"

NO_CHANGES = "audit log is append-only"


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(timezone.utc)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _channel(sender_id: str) -> str:
    prefix = sender_id.split(":", 1)[0]
    return prefix if prefix in ("web", "kakao") else "api"


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    old_turns = bind.execute(sa.text("SELECT id, sender_id, role, text, meta, created_at FROM turns ORDER BY id")).all()
    old_handoffs = bind.execute(
        sa.text("SELECT id, sender_id, reason, urgent, status, created_at FROM handoffs ORDER BY id")
    ).all()
    old_feedback = bind.execute(sa.text("SELECT turn_id, sender_id, rating, created_at FROM feedback")).all()
    op.drop_table("feedback")
    op.drop_table("handoffs")
    op.drop_table("turns")

    staff = op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_login_at", UtcDateTime, nullable=True),
        sa.CheckConstraint("role IN ('agent', 'editor', 'admin')", name="staff_users_role"),
    )
    del staff
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=False, index=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    turns = op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False, server_default="{}"),
        sa.Column("streaming", sa.Boolean, nullable=False, server_default=sa.false(), index=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("role IN ('citizen', 'bot', 'agent')", name="turns_role"),
    )
    op.create_index("turns_sender", "turns", ["sender_id", "id"])
    feedback = op.create_table(
        "feedback",
        sa.Column("turn_id", sa.Integer, sa.ForeignKey("turns.id"), primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("rating IN ('up', 'down')", name="feedback_rating"),
    )
    handoffs = op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False, server_default="web"),
        sa.Column("state", sa.String(16), nullable=False, server_default="waiting"),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("claimed_at", UtcDateTime, nullable=True),
        sa.Column("ended_at", UtcDateTime, nullable=True),
        sa.Column("close_reason", sa.String(200), nullable=True),
        sa.Column("escalated_at", UtcDateTime, nullable=True),
        sa.Column("agent_typing_until", UtcDateTime, nullable=True),
        sa.Column("citizen_typing_until", UtcDateTime, nullable=True),
        sa.CheckConstraint("state IN ('waiting', 'with_agent', 'returned', 'closed', 'cancelled')", name="handoffs_state"),
    )
    op.create_index("handoffs_active", "handoffs", ["state", "urgent", "created_at"])
    op.create_index("handoffs_sender", "handoffs", ["sender_id", "id"])
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=False, index=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(80), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UtcDateTime, nullable=False, index=True),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("handoff_id", sa.Integer, nullable=True, index=True),
        sa.Column("sender_id", sa.String(160), nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "chat_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("handoff_id", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    _append_only_audit(bind.dialect.name)

    rows = []
    for id_, sender, role, text, meta, created in old_turns:
        parsed = json.loads(meta or "{}")
        streaming = isinstance(parsed, dict) and bool(parsed.get("stream"))
        rows.append({"id": id_, "sender_id": sender, "role": role, "text": text, "meta": meta or "{}",
                     "streaming": streaming, "author_id": None, "created_at": _when(created)})  # fmt: skip
    if rows:
        op.bulk_insert(turns, rows)
    if old_feedback:
        op.bulk_insert(
            feedback, [{"turn_id": t, "sender_id": s, "rating": r, "created_at": _when(c)} for t, s, r, c in old_feedback]
        )
    if old_handoffs:
        op.bulk_insert(
            handoffs,
            [
                {
                    "id": i,
                    "sender_id": s,
                    "channel": _channel(s),
                    "state": "waiting" if status == "open" else "closed",
                    "reason": r,
                    "urgent": bool(u),
                    "created_at": _when(c),
                }  # fmt: skip
                for i, s, r, u, status, c in old_handoffs
            ],
        )
    if bind.dialect.name == "postgresql":  # copied ids: move each sequence past them
        for table in ("turns", "handoffs"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )


def _append_only_audit(dialect: str) -> None:
    """Make the database itself refuse to change or delete an audit entry."""
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{NO_CHANGES}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{NO_CHANGES}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    """Undo this revision."""
    raise NotImplementedError("0002 is not reversible: restore a backup instead")
