"""Retention purge and one citizen's conversation exported or erased: the page, the commands and the audit log."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bokji.cli import main
from channels.app import create_app
from channels.handoff import Actor, HandoffError, HandoffService
from channels.privacy import CitizenData, Retention
from channels.settings import AppSettings
from channels.store.database import Database
from channels.store.models import AuditEntry, ChatEvent, Feedback, Handoff, KakaoDeliveredTurn, Note, StaffUser, Turn
from channels.store.transcripts import TranscriptStore
from tests.unit.fakes import RecordingPublisher, ScriptedRasa
from tests.unit.staff_support import csrf_token, make_staff, sign_in
from tests.unit.test_rasa_tracker_store import rasa_store, senders

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=10)


def add_conversation(db: Database, sender: str, at: datetime, state: str | None = None, author: int | None = None) -> None:
    """Two turns (the bot's rated), an event, a Kakao delivery, and optionally a handoff in ``state`` with a note."""
    with db.session() as session:
        citizen = Turn(sender_id=sender, role="citizen", text=f"{sender} 질문", meta="{}", created_at=at)
        bot = Turn(sender_id=sender, role="bot", text=f"{sender} 답변", meta="{}", created_at=at)
        session.add_all([citizen, bot])
        session.flush()
        session.add(Feedback(turn_id=bot.id, sender_id=sender, rating="down", created_at=at))
        session.add(KakaoDeliveredTurn(turn_id=bot.id, sender_id=sender, via="reply", delivered_at=at))
        session.add(ChatEvent(sender_id=sender, kind="turn", created_at=at))
        if state is not None:
            ended = at if state in ("returned", "closed", "cancelled") else None
            handoff = Handoff(sender_id=sender, channel="web", state=state, reason="requested", created_at=at, ended_at=ended)
            session.add(handoff)
            session.flush()
            if author is not None:
                session.add(Note(handoff_id=handoff.id, author_id=author, text=f"{sender} 메모", created_at=at))


def table_counts(db: Database, sender: str) -> dict[str, int]:
    with db.session() as session:
        return {
            model.__tablename__: int(
                session.scalar(select(func.count()).select_from(model).where(model.sender_id == sender)) or 0
            )
            for model in (Turn, Feedback, KakaoDeliveredTurn, ChatEvent, Handoff)
        }


def audit(db: Database, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all())


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'conversations.sqlite3'}")
    database.upgrade()
    return database


@pytest.fixture
def admin(db: Database) -> Actor:
    with db.session() as session:
        user = StaffUser(username="boss", display_name="관리자", role="admin", password_hash="-", created_at=NOW)
        session.add(user)
        session.flush()
        return Actor(user.id, user.display_name, user.role)


# ---- retention -------------------------------------------------------------------------------------------
def test_purge_deletes_what_is_past_the_limit_and_keeps_the_rest(db: Database, admin: Actor) -> None:
    add_conversation(db, "web:old-closed", OLD, "closed", admin.id)
    add_conversation(db, "web:old-no-handoff", OLD)
    add_conversation(db, "web:old-but-waiting", OLD, "waiting", admin.id)
    add_conversation(db, "web:recent", RECENT, "closed", admin.id)
    add_conversation(db, "web:newest", NOW)  # holds the newest event
    retention = Retention(db, days=180)

    planned = retention.purge(NOW, dry_run=True)
    assert table_counts(db, "web:old-closed")["turns"] == 2 and audit(db, "purged") == []
    done = retention.purge(NOW)

    assert done == planned
    assert done.as_dict() == {
        "turns": 4, "feedback": 2, "handoffs": 1, "notes": 1, "deliveries": 2, "events": 3, "rasa_events": 0
    }  # fmt: skip
    assert set(table_counts(db, "web:old-closed").values()) == {0}
    assert set(table_counts(db, "web:old-no-handoff").values()) == {0}
    # A person is handling it: turns and handoff stay whatever their age (only its old live-update event goes).
    assert table_counts(db, "web:old-but-waiting") == {"turns": 2, "feedback": 1, "kakao_delivered_turns": 1,
                                                        "chat_events": 0, "handoffs": 1}  # fmt: skip
    assert table_counts(db, "web:recent")["turns"] == 2 and table_counts(db, "web:recent")["handoffs"] == 1
    [entry] = audit(db, "purged")
    assert entry.actor_id is None
    detail = json.loads(entry.detail)
    assert detail["turns"] == 4 and detail["days"] == 180 and detail["before"].startswith("2026-06-04")
    assert "질문" not in entry.detail


def test_purge_never_deletes_the_audit_log_or_the_newest_event(db: Database, admin: Actor) -> None:
    add_conversation(db, "web:only", OLD, "closed", admin.id)
    with db.session() as session:
        session.add(AuditEntry(at=OLD, actor_id=admin.id, action="claimed", handoff_id=1, sender_id="web:only", detail="{}"))
    Retention(db, days=30).purge(NOW)
    assert len(audit(db, "claimed")) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ChatEvent)) == 1


# ---- export and erase (the service) ---------------------------------------------------------------------------
class FakeTracker:
    def __init__(self) -> None:
        self.erased: list[str] = []

    def erase(self, sender_id: str) -> bool:
        self.erased.append(sender_id)
        return True

    def count(self, sender_id: str) -> int:
        return 0 if sender_id in self.erased else 5


def test_export_holds_the_whole_conversation_and_the_audit_entry_no_text(db: Database, admin: Actor) -> None:
    add_conversation(db, "web:alice", RECENT, "closed", admin.id)
    data = CitizenData(db).export("web:alice", admin)
    assert [(t["role"], t["text"]) for t in data["turns"]] == [("citizen", "web:alice 질문"), ("bot", "web:alice 답변")]
    assert data["turns"][1]["rating"] == "down"
    assert data["handoffs"][0]["state"] == "closed" and data["handoffs"][0]["notes"][0]["text"] == "web:alice 메모"
    [entry] = audit(db, "citizen_exported")
    assert (entry.actor_id, entry.sender_id) == (admin.id, "web:alice")
    assert json.loads(entry.detail) == {"turns": 2, "handoffs": 1, "notes": 1} and "질문" not in entry.detail


def test_erase_removes_one_sender_only_empties_rasa_and_is_audited(db: Database, admin: Actor) -> None:
    add_conversation(db, "web:alice", RECENT, "closed", admin.id)
    add_conversation(db, "web:bob", RECENT, "closed", admin.id)
    tracker, forgotten = FakeTracker(), []
    counts = CitizenData(db, tracker, forgotten.append).delete("web:alice", admin)
    assert counts.as_dict() == {
        "turns": 2, "feedback": 1, "handoffs": 1, "notes": 1, "deliveries": 1, "events": 1, "rasa_events": 5
    }  # fmt: skip
    assert set(table_counts(db, "web:alice").values()) == {0}
    assert table_counts(db, "web:bob") == {"turns": 2, "feedback": 1, "kakao_delivered_turns": 1, "chat_events": 1, "handoffs": 1}
    assert tracker.erased == ["web:alice"] and forgotten == ["web:alice"]
    [entry] = audit(db, "citizen_deleted")
    assert entry.sender_id == "web:alice" and json.loads(entry.detail)["rasa_tracker"] is True


def test_erase_refuses_a_chat_a_person_handles_and_an_unknown_sender(db: Database, admin: Actor) -> None:
    add_conversation(db, "web:busy", RECENT, "with_agent", admin.id)
    tracker = FakeTracker()
    with pytest.raises(HandoffError) as busy:
        CitizenData(db, tracker).delete("web:busy", admin)
    with pytest.raises(HandoffError) as unknown:
        CitizenData(db, tracker).delete("web:nobody", admin)
    assert (busy.value.status, unknown.value.status) == (409, 404)
    assert table_counts(db, "web:busy")["turns"] == 2 and tracker.erased == [] and audit(db, "citizen_deleted") == []


# ---- the console page ----------------------------------------------------------------------------------------
@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa) -> Flask:
    app = create_app(AppSettings(data_dir=tmp_path), engine=rasa, publisher=RecordingPublisher())  # type: ignore[arg-type]
    app.extensions["bokji.accounts"].hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # fast sign-ins
    return app


def seed(app: Flask, sender: str = "web:alice") -> None:
    transcripts: TranscriptStore = app.extensions["bokji.transcripts"]
    transcripts.add_turn(sender, "citizen", "기초연금 얼마예요")
    transcripts.add_turn(sender, "bot", "최대 349,700원이에요.")


def test_only_admins_reach_the_privacy_page(app: Flask, client: FlaskClient) -> None:
    seed(app)
    assert client.get("/console/privacy").status_code == 302  # to the sign-in page
    anonymous = client.post("/console/privacy/export", data={"sender_id": "web:alice"})  # no sign-in, no CSRF token
    assert anonymous.status_code == 400 and "기초연금" not in anonymous.get_data(as_text=True)
    make_staff(app, "agent1", "agent")
    sign_in(client, "agent1")
    token = csrf_token(client, "/console")
    assert client.get("/console/privacy").status_code == 403
    for path in ("/console/privacy/export", "/console/privacy/delete"):
        response = client.post(path, data={"sender_id": "web:alice", "confirm": "yes", "csrf_token": token})
        assert response.status_code == 403
    assert len(app.extensions["bokji.transcripts"].turns("web:alice")) == 2
    assert audit(app.extensions["bokji.database"], "citizen_exported") == []


def test_admin_exports_a_conversation_as_a_json_download(app: Flask, client: FlaskClient) -> None:
    seed(app)
    make_staff(app, "boss", "admin", name="관리자")
    sign_in(client, "boss")
    page = client.get("/console/privacy")
    assert page.status_code == 200 and "대화 내보내기" in page.get_data(as_text=True)
    token = csrf_token(client, "/console/privacy")
    response = client.post("/console/privacy/export", data={"sender_id": "alice", "csrf_token": token})  # bare session id
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["sender_id"] == "web:alice" and [t["text"] for t in data["turns"]][1] == "최대 349,700원이에요."
    [entry] = audit(app.extensions["bokji.database"], "citizen_exported")
    assert entry.sender_id == "web:alice"
    assert "대화 내보내기" in client.get("/console/audit").get_data(as_text=True)


def test_admin_deletes_after_a_confirmation_and_other_chats_stay(app: Flask, client: FlaskClient) -> None:
    seed(app, "web:alice")
    seed(app, "web:bob")
    make_staff(app, "boss", "admin")
    sign_in(client, "boss")
    token = csrf_token(client, "/console/privacy")
    asked = client.post("/console/privacy/delete", data={"sender_id": "web:alice", "csrf_token": token})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "정말 삭제할까요?" in html and "메시지 2건" in html
    assert len(app.extensions["bokji.transcripts"].turns("web:alice")) == 2, "nothing is deleted before the confirmation"
    done = client.post("/console/privacy/delete", data={"sender_id": "web:alice", "confirm": "yes", "csrf_token": token})
    assert done.status_code == 200 and "삭제했어요" in done.get_data(as_text=True)
    assert app.extensions["bokji.transcripts"].turns("web:alice") == []
    assert len(app.extensions["bokji.transcripts"].turns("web:bob")) == 2
    [entry] = audit(app.extensions["bokji.database"], "citizen_deleted")
    assert entry.sender_id == "web:alice" and json.loads(entry.detail)["turns"] == 2


def test_page_errors_are_korean_4xx_and_change_nothing(app: Flask, client: FlaskClient) -> None:
    seed(app)
    handoffs: HandoffService = app.extensions["bokji.handoffs"]
    handoffs.request("web:alice", "requested")
    make_staff(app, "boss", "admin")
    sign_in(client, "boss")
    token = csrf_token(client, "/console/privacy")
    cases = [
        ("/console/privacy/delete", {"sender_id": "web:alice", "confirm": "yes"}, 409, "상담을 먼저 종료해 주세요"),
        ("/console/privacy/delete", {"sender_id": "web:nobody"}, 404, "저장된 대화가 없어요"),
        ("/console/privacy/export", {"sender_id": "web:nobody"}, 404, "저장된 대화가 없어요"),
        ("/console/privacy/export", {"sender_id": "<script>"}, 400, "대화 ID를 확인해 주세요"),
        ("/console/privacy/export", {"sender_id": ""}, 400, "대화 ID를 확인해 주세요"),
    ]
    for path, form, status, message in cases:
        response = client.post(path, data={**form, "csrf_token": token})
        assert (response.status_code, message in response.get_data(as_text=True)) == (status, True), (path, form)
    no_csrf = client.post("/console/privacy/delete", data={"sender_id": "web:alice", "confirm": "yes"})
    assert no_csrf.status_code == 400
    big = client.post("/console/privacy/export", data={"sender_id": "x" * 40_000, "csrf_token": token})
    assert big.status_code == 413
    assert len(app.extensions["bokji.transcripts"].turns("web:alice")) == 2
    assert audit(app.extensions["bokji.database"], "citizen_deleted") == []


# ---- the commands --------------------------------------------------------------------------------------------
@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOKJI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BOKJI_DATABASE_URL", raising=False)
    monkeypatch.delenv("BOKJI_TRACKER_URL", raising=False)  # Rasa's tracker store: rasa_tracker.sqlite3 in the data dir
    return tmp_path


def test_purge_command_prints_counts_and_dry_run_changes_nothing(
    db: Database, admin: Actor, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_conversation(db, "web:ancient", datetime.now(timezone.utc) - timedelta(days=400), "closed", admin.id)
    add_conversation(db, "web:today", datetime.now(timezone.utc))
    monkeypatch.setenv("BOKJI_PRIVACY__RETENTION_DAYS", "365")
    assert main(["purge", "--dry-run"]) == 0
    assert "would delete 2 turns, 1 feedback, 1 handoffs, 1 notes" in capsys.readouterr().out
    assert table_counts(db, "web:ancient")["turns"] == 2
    ancient, today = datetime.now(timezone.utc) - timedelta(days=400), datetime.now(timezone.utc)
    tracker = rasa_store(data_dir / "rasa_tracker.sqlite3", [("web:ancient", ancient), ("web:today", today)])
    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 turns" in out and "1 rasa_events" in out
    assert table_counts(db, "web:ancient")["turns"] == 0 and table_counts(db, "web:today")["turns"] == 2
    assert senders(tracker) == ["web:today"]  # Rasa's copy of the old conversation is gone too
    [entry] = audit(db, "purged")
    assert json.loads(entry.detail)["rasa_events"] == 1


def test_citizen_commands_export_and_delete_one_sender(
    db: Database, admin: Actor, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_conversation(db, "kakao:abc123", RECENT, "closed", admin.id)
    add_conversation(db, "web:other", RECENT)
    out_file = data_dir / "export.json"
    assert main(["citizen", "export", "kakao:abc123", "--output", str(out_file)]) == 0
    assert json.loads(out_file.read_text())["turns"][0]["text"] == "kakao:abc123 질문"
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["citizen", "delete", "kakao:abc123"]) == 2  # no terminal and no --yes: refused
    assert table_counts(db, "kakao:abc123")["turns"] == 2
    # What Rasa's SQL tracker store holds of both conversations (bot/endpoints.yml: rasa_tracker.sqlite3 in the data dir).
    held = [("kakao:abc123", RECENT), ("web:other", RECENT), ("kakao:abc123", RECENT)]
    tracker = rasa_store(data_dir / "rasa_tracker.sqlite3", held)
    assert main(["citizen", "delete", "kakao:abc123", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 turns" in out and "2 rasa_events" in out
    assert table_counts(db, "kakao:abc123")["turns"] == 0 and table_counts(db, "web:other")["turns"] == 2
    assert senders(tracker) == ["web:other"]
    assert main(["citizen", "delete", "kakao:abc123", "--yes"]) == 2
    assert "no conversation is stored" in capsys.readouterr().err
    [entry] = audit(db, "citizen_deleted")
    assert entry.actor_id is None and json.loads(entry.detail)["rasa_tracker"] is True
    raw = sqlite3.connect(data_dir / "conversations.sqlite3").execute("SELECT detail FROM audit_log").fetchall()
    assert not any("질문" in d for (d,) in raw)
