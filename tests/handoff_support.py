"""Build the handoff state machine on any database URL, with staff rows inserted directly (no sign-in)."""

from __future__ import annotations

from channels.handoff import Actor, HandoffService
from channels.settings import HandoffSettings
from channels.store.database import Database
from channels.store.models import StaffUser, utcnow
from channels.store.transcripts import TranscriptStore


def build(url: str, **settings: object) -> HandoffService:
    """A migrated database with a HandoffService over it."""
    database = Database(url)
    database.upgrade()
    return HandoffService(database, TranscriptStore(database), HandoffSettings(**settings))  # type: ignore[arg-type]


def staff(service: HandoffService, username: str, role: str = "agent", name: str | None = None) -> Actor:
    """Insert a staff account (its password hash is irrelevant here) and return it as an actor."""
    with service.database.session() as session:
        user = StaffUser(username=username, display_name=name or username, role=role, password_hash="-", created_at=utcnow())
        session.add(user)
        session.flush()
        return Actor(user.id, user.display_name, user.role)
