"""Persistence of everything staff touch: SQLAlchemy 2 models, repositories and Alembic migrations."""

from channels.store.database import Database
from channels.store.transcripts import TranscriptStore

__all__ = ["Database", "TranscriptStore"]
