"""KakaoTalk delivery: which staff turns (agent replies, handoff notices) already reached a Kakao user.

Nothing is backfilled: staff turns exist only since 0002, and one that no Kakao user has seen yet should
still reach them on their next message.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from channels.store.models import UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "kakao_delivered_turns",
        sa.Column("turn_id", sa.Integer, sa.ForeignKey("turns.id"), primary_key=True),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("delivered_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("kakao_delivered_turns")
