"""Knowledge admin: FAQs and documents live in the staff database; the search index is derived by publishing.

``faq_entries`` holds one row per FAQ (its state and optimistic-lock counter), ``faq_versions`` every saved
text; ``documents`` and ``document_chunks`` the uploaded long documents; ``question_tests`` the record of
"what would the bot answer?"; ``inbox_resolutions`` which entry answers a group of unanswered questions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from channels.store.models import UtcDateTime

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lock_version", sa.Integer, nullable=False),
        sa.Column("published_version", sa.Integer, nullable=True),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'review', 'published', 'unpublished')", name="faq_entries_status"),
    )
    op.create_table(
        "faq_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.String(80), sa.ForeignKey("faq_entries.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewed_by", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("reviewed_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("entry_id", "version", name="faq_versions_entry_version"),
        sa.CheckConstraint("state IN ('draft', 'review', 'published', 'superseded', 'rejected')", name="faq_versions_state"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("tenant", sa.String(80), nullable=False, server_default="national"),
        sa.Column("category", sa.String(80), nullable=False, server_default=""),
        sa.Column("source_title", sa.String(300), nullable=False, server_default=""),
        sa.Column("source_url", sa.String(1000), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("stored_path", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer, nullable=True),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'indexing', 'indexed', 'needs_text', 'failed', 'disabled')", name="documents_status"
        ),
    )
    op.create_table(
        "document_chunks",
        sa.Column("document_id", sa.String(80), sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("chunk_index", sa.Integer, primary_key=True),
        sa.Column("page", sa.Integer, nullable=True),
        sa.Column("heading", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "question_tests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("asked_by", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("asked_at", UtcDateTime, nullable=False, index=True),
    )
    op.create_table(
        "inbox_resolutions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_key", sa.String(200), nullable=False, index=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("entry_id", sa.String(80), nullable=True),
        sa.Column("resolved_by", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("resolved_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("inbox_resolutions")
    op.drop_table("question_tests")
    op.drop_table("document_chunks")
    op.drop_table("documents")
    op.drop_table("faq_versions")
    op.drop_table("faq_entries")
