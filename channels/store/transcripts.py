"""Durable transcripts and answer ratings, so no turn is ever lost (text arrives masked)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from channels.store.database import Database
from channels.store.models import ChatEvent, Feedback, Turn, utcnow


def turn_record(turn: Turn, feedback: str | None = None) -> dict[str, Any]:
    """A turn as the channels use it: role, text, meta (parsed), time, id and rating."""
    return {
        "id": turn.id,
        "role": turn.role,
        "text": turn.text,
        "meta": json.loads(turn.meta or "{}"),
        "created_at": turn.created_at.isoformat(timespec="seconds"),
        "feedback": feedback,
        "author_id": turn.author_id,
    }


class TranscriptStore:
    """Append-only turns (a streamed answer's placeholder is completed once) and ratings."""

    def __init__(self, database: Database) -> None:
        """Use the staff database (its schema must be upgraded: ``Database.upgrade``)."""
        self.database = database

    def add_turn(
        self, sender_id: str, role: str, text: str, meta: dict[str, Any] | None = None, *, author_id: int | None = None
    ) -> int:
        """Record one message and return its id (what feedback and live updates refer to)."""
        meta = meta or {}
        with self.database.session() as session:
            turn = Turn(
                sender_id=sender_id,
                role=role,
                text=text,
                meta=json.dumps(meta, ensure_ascii=False),
                streaming=bool(meta.get("stream")),
                author_id=author_id,
                created_at=utcnow(),
            )
            session.add(turn)
            session.flush()
            session.add(ChatEvent(sender_id=sender_id, kind="turn", created_at=utcnow()))
            return turn.id

    def complete_turn(self, turn_id: int, text: str, meta: dict[str, Any]) -> None:
        """Put a streamed answer's final text in place of its placeholder (the one turn that is ever rewritten)."""
        with self.database.session() as session:
            turn = session.get(Turn, turn_id)
            if turn is None or turn.role != "bot":
                return
            turn.text, turn.meta, turn.streaming = text, json.dumps(meta, ensure_ascii=False), False
            session.add(ChatEvent(sender_id=turn.sender_id, kind="turn", created_at=utcnow()))

    def close_abandoned_streams(self, text: str, writer: str | None = None, older_than: datetime | None = None) -> int:
        """Give placeholders nobody will complete ``text`` instead (at start-up); how many.

        Without ``writer`` every placeholder still streaming is closed (one web process: none is live at its
        start). With it (several replicas share the database), only those this process's predecessor was
        writing (its ``writer`` in the meta) and those older than ``older_than`` (a replica that died and
        never came back); another replica's live answers are left to it.
        """
        with self.database.session() as session:
            turns = session.scalars(select(Turn).where(Turn.streaming.is_(True))).all()
            if writer is not None:
                cutoff = _aware(older_than) if older_than is not None else None
                turns = [
                    t
                    for t in turns
                    if json.loads(t.meta or "{}").get("writer") == writer
                    or (cutoff is not None and _aware(t.created_at) < cutoff)
                ]
            for turn in turns:
                meta = json.loads(turn.meta or "{}")
                meta.pop("writer", None)
                meta.pop("stream", None)
                meta["degraded"] = True
                turn.text, turn.meta, turn.streaming = text, json.dumps(meta, ensure_ascii=False), False
            return len(turns)

    def turns(self, sender_id: str) -> list[dict[str, Any]]:
        """The whole transcript of one conversation, oldest first, each with its rating."""
        return self.recent_turns(sender_id, None)

    def recent_turns(self, sender_id: str, limit: int | None) -> list[dict[str, Any]]:
        """The last ``limit`` turns of one conversation (all with None), oldest first, each with its id and rating."""
        query = (
            select(Turn, Feedback.rating)
            .outerjoin(Feedback, Feedback.turn_id == Turn.id)
            .where(Turn.sender_id == sender_id)
            .order_by(Turn.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        with self.database.session() as session:
            rows = session.execute(query).all()
        return [turn_record(turn, rating) for turn, rating in reversed(rows)]

    def turns_after(self, sender_id: str, after_id: int) -> list[dict[str, Any]]:
        """Turns of one conversation newer than ``after_id`` (what a live view has not shown yet)."""
        with self.database.session() as session:
            turns = session.scalars(select(Turn).where(Turn.sender_id == sender_id, Turn.id > after_id).order_by(Turn.id)).all()
        return [turn_record(t) for t in turns]

    def set_feedback(self, sender_id: str, turn_id: int, rating: str) -> bool:
        """Store a thumbs up or down on a bot message; False when no such message is in this conversation."""
        with self.database.session() as session:
            turn = session.get(Turn, turn_id)
            if turn is None or turn.sender_id != sender_id or turn.role != "bot":
                return False
            existing = session.get(Feedback, turn_id)
            if existing is None:
                session.add(Feedback(turn_id=turn_id, sender_id=sender_id, rating=rating, created_at=utcnow()))
            else:
                existing.rating, existing.created_at = rating, utcnow()
        return True

    def feedback(self) -> list[dict[str, Any]]:
        """Every rating with the message it rates, newest first (for the staff console and reports)."""
        query = (
            select(Feedback, Turn.text)
            .join(Turn, Turn.id == Feedback.turn_id)
            .order_by(Feedback.created_at.desc(), Feedback.turn_id.desc())
        )
        with self.database.session() as session:
            rows = session.execute(query).all()
        return [
            {
                "turn_id": f.turn_id,
                "sender_id": f.sender_id,
                "rating": f.rating,
                "created_at": f.created_at.isoformat(timespec="seconds"),
                "text": text,
            }  # fmt: skip
            for f, text in rows
        ]


def _aware(moment: datetime) -> datetime:
    """A time from the database as UTC (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
