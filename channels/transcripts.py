"""Durable transcripts, handoff requests and answer ratings (SQLite), so no turn or handoff is ever lost."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    sender_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'bot')),
    text TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_sender ON turns(sender_id, id);
-- Placeholders of streamed answers: start-up finds the abandoned ones without reading every turn.
CREATE INDEX IF NOT EXISTS turns_streaming ON turns(id) WHERE json_extract(meta, '$.stream') IS NOT NULL;
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY,
    sender_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    turn_id INTEGER PRIMARY KEY REFERENCES turns(id),
    sender_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    created_at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class TranscriptStore:
    """Append-only turns (a streamed answer's placeholder is completed once) and handoff requests; text arrives masked."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the database."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def add_turn(self, sender_id: str, role: str, text: str, meta: dict[str, Any] | None = None) -> int:
        """Record one message and return its id (what feedback refers to)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO turns(sender_id, role, text, meta, created_at) VALUES (?, ?, ?, ?, ?)",
                (sender_id, role, text, json.dumps(meta or {}, ensure_ascii=False), _now()),
            )
        return int(cursor.lastrowid or 0)

    def complete_turn(self, turn_id: int, text: str, meta: dict[str, Any]) -> None:
        """Put a streamed answer's final text in place of its placeholder (the one turn that is ever rewritten)."""
        with self._lock:
            self._db.execute(
                "UPDATE turns SET text = ?, meta = ? WHERE id = ? AND role = 'bot'",
                (text, json.dumps(meta, ensure_ascii=False), turn_id),
            )

    def close_abandoned_streams(self, text: str) -> int:
        """Give every placeholder still waiting for a streamed answer ``text`` instead (at start-up: no one will complete it)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE turns SET text = ?, meta = json_set(json_remove(meta, '$.stream'), '$.degraded', json('true')) "
                "WHERE json_extract(meta, '$.stream') IS NOT NULL",
                (text,),
            )
        return cursor.rowcount

    def open_handoff(self, sender_id: str, reason: str, urgent: bool) -> None:
        """Queue the chat for staff unless it is already waiting."""
        with self._lock:
            waiting = self._db.execute("SELECT id FROM handoffs WHERE sender_id = ? AND status = 'open'", (sender_id,)).fetchone()
            if waiting is None:
                self._db.execute(
                    "INSERT INTO handoffs(sender_id, reason, urgent, created_at) VALUES (?, ?, ?, ?)",
                    (sender_id, reason, int(urgent), _now()),
                )
            elif urgent:
                self._db.execute("UPDATE handoffs SET urgent = 1, reason = ? WHERE id = ?", (reason, waiting[0]))

    def turns(self, sender_id: str) -> list[dict[str, Any]]:
        """The transcript of one conversation, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT role, text, meta, created_at FROM turns WHERE sender_id = ? ORDER BY id", (sender_id,)
            ).fetchall()
        return [{"role": r, "text": t, "meta": json.loads(m), "created_at": c} for r, t, m, c in rows]

    def recent_turns(self, sender_id: str, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` turns of one conversation, oldest first, each with its id and feedback."""
        with self._lock:
            rows = self._db.execute(
                "SELECT t.id, t.role, t.text, t.meta, t.created_at, f.rating FROM turns t "
                "LEFT JOIN feedback f ON f.turn_id = t.id WHERE t.sender_id = ? ORDER BY t.id DESC LIMIT ?",
                (sender_id, limit),
            ).fetchall()
        return [
            {"id": i, "role": r, "text": t, "meta": json.loads(m), "created_at": c, "feedback": f}
            for i, r, t, m, c, f in reversed(rows)
        ]

    def set_feedback(self, sender_id: str, turn_id: int, rating: str) -> bool:
        """Store a thumbs up or down on a bot message; False when no such message is in this conversation."""
        with self._lock:
            owned = self._db.execute(
                "SELECT 1 FROM turns WHERE id = ? AND sender_id = ? AND role = 'bot'", (turn_id, sender_id)
            ).fetchone()
            if owned is None:
                return False
            self._db.execute(
                "INSERT INTO feedback(turn_id, sender_id, rating, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(turn_id) DO UPDATE SET rating = excluded.rating, created_at = excluded.created_at",
                (turn_id, sender_id, rating, _now()),
            )
        return True

    def feedback(self) -> list[dict[str, Any]]:
        """Every rating with the message it rates, newest first (for the staff console and reports)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT f.turn_id, f.sender_id, f.rating, f.created_at, t.text FROM feedback f "
                "JOIN turns t ON t.id = f.turn_id ORDER BY f.created_at DESC, f.turn_id DESC"
            ).fetchall()
        return [{"turn_id": i, "sender_id": s, "rating": r, "created_at": c, "text": t} for i, s, r, c, t in rows]

    def open_handoffs(self) -> list[dict[str, Any]]:
        """Chats waiting for staff, urgent first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT sender_id, reason, urgent, created_at FROM handoffs WHERE status = 'open' ORDER BY urgent DESC, id"
            ).fetchall()
        return [{"sender_id": s, "reason": r, "urgent": bool(u), "created_at": c} for s, r, u, c in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
