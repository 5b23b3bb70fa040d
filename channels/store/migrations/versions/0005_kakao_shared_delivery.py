"""KakaoTalk delivery shared by every web replica: pending answers, held callbackUrls, Event API recipients.

Before this revision they lived in one web process's memory, so nginx pinned /kakao/ to one replica. Nothing
is backfilled: what was in memory at the upgrade is in the transcripts.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from channels.store.models import UtcDateTime

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "kakao_pending_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reply", sa.Text, nullable=True),
        sa.Column("computed_by", sa.String(160), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(160), nullable=True),
        sa.Column("claimed_at", UtcDateTime, nullable=True),
        sa.Column("delivered_at", UtcDateTime, nullable=True),
        sa.Column("via", sa.String(16), nullable=True),
        sa.CheckConstraint("status IN ('computing', 'ready', 'delivered')", name="kakao_pending_answers_status"),
    )
    op.create_index("kakao_pending_answers_sender", "kakao_pending_answers", ["sender_id", "status", "id"])
    op.create_table(
        "kakao_callbacks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("upto_answer_id", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(160), nullable=True),
        sa.Column("claimed_at", UtcDateTime, nullable=True),
        sa.Column("done_at", UtcDateTime, nullable=True),
        sa.CheckConstraint("kind IN ('answers', 'staff')", name="kakao_callbacks_kind"),
    )
    op.create_index("kakao_callbacks_open", "kakao_callbacks", ["done_at", "expires_at"])
    op.create_table(
        "kakao_recipients",
        sa.Column("sender_id", sa.String(160), primary_key=True),
        sa.Column("sealed_key", sa.Text, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("kakao_recipients")
    op.drop_index("kakao_callbacks_open", "kakao_callbacks")
    op.drop_table("kakao_callbacks")
    op.drop_index("kakao_pending_answers_sender", "kakao_pending_answers")
    op.drop_table("kakao_pending_answers")
