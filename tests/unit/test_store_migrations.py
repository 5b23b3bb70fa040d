"""The staff database's migrations: a transcript file from before them is upgraded in place without loss."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect

from channels.store.database import Database
from channels.store.models import Base
from channels.store.transcripts import TranscriptStore
from tests.handoff_support import build

# The schema releases before migrations created (channels/transcripts.py until 414e3cf).
LEGACY = """
CREATE TABLE turns (id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'bot')), text TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL);
CREATE INDEX turns_sender ON turns(sender_id, id);
CREATE INDEX turns_streaming ON turns(id) WHERE json_extract(meta, '$.stream') IS NOT NULL;
CREATE TABLE handoffs (id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL, reason TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL);
CREATE TABLE feedback (turn_id INTEGER PRIMARY KEY REFERENCES turns(id), sender_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), created_at TEXT NOT NULL);
INSERT INTO turns VALUES (1, 'web:old', 'citizen', '기초연금 얼마예요?', '{}', '2026-11-01T09:00:00+00:00');
INSERT INTO turns VALUES (2, 'web:old', 'bot', '월 349,700원이에요.', '{"mode": "faq", "sources": [{"title": "기초연금"}]}',
    '2026-11-01T09:00:02+00:00');
INSERT INTO turns VALUES (3, 'web:old', 'citizen', '상담원 연결', '{"label": "상담원 연결"}', '2026-11-01T09:01:00+00:00');
INSERT INTO turns VALUES (4, 'web:gen', 'bot', '답변을 작성하고 있어요.', '{"stream": "abc123"}', '2026-11-01T09:02:00+00:00');
INSERT INTO feedback VALUES (2, 'web:old', 'down', '2026-11-01T09:00:30+00:00');
INSERT INTO handoffs VALUES (1, 'web:old', 'requested', 0, 'open', '2026-11-01T09:01:01+00:00');
INSERT INTO handoffs VALUES (2, 'kakao:u1', 'crisis', 1, 'open', '2026-11-01T08:00:00+00:00');
"""


def test_a_legacy_transcript_file_keeps_every_turn_rating_and_waiting_handoff(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    sqlite3.connect(path).executescript(LEGACY)
    service = build(f"sqlite:///{path}")
    turns = service.transcripts.turns("web:old")
    assert [(t["id"], t["role"], t["text"]) for t in turns] == [
        (1, "citizen", "기초연금 얼마예요?"), (2, "bot", "월 349,700원이에요."), (3, "citizen", "상담원 연결")]  # fmt: skip
    assert turns[1]["meta"]["sources"] == [{"title": "기초연금"}] and turns[1]["feedback"] == "down"
    assert turns[0]["created_at"] == "2026-11-01T09:00:00+00:00"
    queue = service.queue()
    assert [(v.sender_id, v.state, v.urgent, v.channel) for v in queue] == [
        ("kakao:u1", "waiting", True, "kakao"), ("web:old", "waiting", False, "web")]  # fmt: skip
    # The abandoned placeholder is still found at start-up, and new rows get new ids.
    assert service.transcripts.close_abandoned_streams("끝까지 작성하지 못했어요") == 1
    assert service.transcripts.add_turn("web:old", "citizen", "또 질문") == 5


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert database.upgrade() == database.upgrade()
    store = TranscriptStore(database)
    store.add_turn("web:a", "citizen", "안녕하세요")
    database.upgrade()
    assert [t["text"] for t in store.turns("web:a")] == ["안녕하세요"]


def test_the_migrated_schema_has_every_table_and_column_the_models_use(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    database.upgrade()
    inspector = inspect(database.engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert {c.name for c in table.columns} <= columns, table.name
