"""Rasa's tracker store: where Rasa and the web app find it, and erasing or purging a conversation's events in it."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from channels.privacy import TrackerEvents
from channels.privacy.tracker import rasa_tracker_url, tracker_database_url
from channels.settings import AppSettings

# The table as Rasa 3.6's SQLTrackerStore creates it (rasa/core/tracker_store.py SQLEvent).
RASA_EVENTS = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255)
NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def rasa_store(path: Path, rows: list[tuple[str, datetime]]) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(RASA_EVENTS)
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')",
            [(sender, at.timestamp()) for sender, at in rows],
        )
    return path


def senders(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT sender_id FROM events ORDER BY id")]


def test_sqlite_by_default_in_the_data_dir_and_the_staff_database_on_postgresql(tmp_path: Path) -> None:
    assert tracker_database_url("", tmp_path) == f"sqlite:///{tmp_path.resolve() / 'rasa_tracker.sqlite3'}"
    assert tracker_database_url("sqlite:///x/conversations.sqlite3", tmp_path).endswith("/rasa_tracker.sqlite3")
    pg = "postgresql+psycopg://bokji:p%40ss@db.city.go.kr:5433/bokji"
    assert tracker_database_url(pg, tmp_path) == pg
    # Rasa's environment has psycopg2, and the password survives with its escaping.
    assert rasa_tracker_url(pg) == "postgresql+psycopg2://bokji:p%40ss@db.city.go.kr:5433/bokji"


def test_rasa_gets_an_absolute_path_because_it_runs_in_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert rasa_tracker_url("sqlite:///var/rasa_tracker.sqlite3") == f"sqlite:///{tmp_path.resolve()}/var/rasa_tracker.sqlite3"


def test_settings_follow_the_staff_database_unless_told(tmp_path: Path) -> None:
    assert AppSettings(data_dir=tmp_path).tracker_database().endswith(f"{tmp_path.resolve()}/rasa_tracker.sqlite3")
    explicit = "postgresql+psycopg://rasa@tracker/rasa"
    assert AppSettings(data_dir=tmp_path, tracker_url=explicit).tracker_database() == explicit


def test_erase_removes_one_conversation_only(tmp_path: Path) -> None:
    store = rasa_store(tmp_path / "t.sqlite3", [("web:a", NOW), ("web:b", NOW), ("web:a", NOW)])
    events = TrackerEvents(f"sqlite:///{store}")
    assert events.count("web:a") == 2
    assert events.erase("web:a") is True
    assert senders(store) == ["web:b"] and events.count("web:a") == 0


def test_purge_deletes_old_events_except_conversations_a_person_handles(tmp_path: Path) -> None:
    old, recent = NOW - timedelta(days=200), NOW - timedelta(days=2)
    store = rasa_store(tmp_path / "t.sqlite3", [("web:old", old), ("web:busy", old), ("web:new", recent), ("web:old", recent)])
    removed = TrackerEvents(f"sqlite:///{store}").purge_before(NOW - timedelta(days=180), keep=["web:busy"])
    assert removed == 1
    assert senders(store) == ["web:busy", "web:new", "web:old"]


def test_before_rasa_stored_anything_nothing_is_deleted_and_no_file_is_made(tmp_path: Path) -> None:
    events = TrackerEvents(f"sqlite:///{tmp_path / 'never.sqlite3'}")
    assert events.erase("web:a") is True and events.count("web:a") == 0
    assert not (tmp_path / "never.sqlite3").exists()
    sqlite3.connect(tmp_path / "empty.sqlite3").close()  # a file without Rasa's table
    assert TrackerEvents(f"sqlite:///{tmp_path / 'empty.sqlite3'}").purge_before(NOW) == 0


def test_an_unreachable_store_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "t.sqlite3").write_bytes(b"not a database" * 100)
    events = TrackerEvents(f"sqlite:///{tmp_path / 't.sqlite3'}")
    assert events.erase("web:a") is False
    assert events.purge_before(NOW) is None
