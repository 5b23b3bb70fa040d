"""KakaoTalk users are filed under a keyed hash of their botUserKey: nothing we keep can be joined with Kakao's records."""

from __future__ import annotations

import re
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from channels.app import create_app
from channels.handoff import HandoffService
from channels.privacy import SenderIds
from channels.settings import AppSettings, KakaoSettings, PrivacySettings
from tests.handoff_support import staff
from tests.kakao_support import TOKEN, Receiver, SlowRasa, ask, make_app, sender, skill_request, texts

USER = "8a1d6f0c2b7e4d9fRAWKEY"


def database_text(app: Flask) -> str:
    """Every value of every table of the app's SQLite database, as one string."""
    db = sqlite3.connect(app.extensions["bokji.settings"].data_dir / "conversations.sqlite3")
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(repr(row) for table in tables for row in db.execute(f"SELECT * FROM {table}"))  # noqa: S608


def test_the_bot_user_key_is_stored_nowhere_and_rasa_never_sees_it(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.replies["사람이랑 얘기할래요"] = [{"text": "연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    ask(client, skill_request("기초연금 얼마예요", user_id=USER))
    ask(client, skill_request("사람이랑 얘기할래요", user_id=USER))
    who = sender(app, USER)
    assert re.fullmatch(r"kakao:[0-9a-f]{32}", who)
    assert {s for s, _ in rasa.sent} == {who}
    assert [h.sender_id for h in app.extensions["bokji.handoffs"].queue()] == [who]
    stored = database_text(app)
    assert who in stored and USER not in stored


def test_the_same_user_keeps_one_conversation_across_restarts_and_users_stay_apart(tmp_path: Path, rasa: SlowRasa) -> None:
    first = make_app(tmp_path, rasa)
    ask(first.test_client(), skill_request("기초연금 얼마예요", user_id="userA"))
    first.extensions["bokji.kakao"].close()
    again = make_app(tmp_path, rasa)
    ask(again.test_client(), skill_request("주거급여는요?", user_id="userA"))
    ask(again.test_client(), skill_request("아동수당", user_id="userB"))
    again.extensions["bokji.kakao"].close()
    senders = [s for s, _ in rasa.sent]
    assert senders[0] == senders[1] != senders[2]
    assert [t["role"] for t in again.extensions["bokji.transcripts"].turns(senders[0])] == ["citizen", "bot"] * 2
    key = tmp_path / "id_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_configured_key_is_used_instead_of_the_key_file(tmp_path: Path, rasa: SlowRasa) -> None:
    settings = AppSettings(
        data_dir=tmp_path,
        kakao=KakaoSettings(token=SecretStr(TOKEN)),
        privacy=PrivacySettings(id_key=SecretStr("k" * 40)),
    )
    app = create_app(settings, engine=rasa)
    assert sender(app, "userA") == SenderIds(b"k" * 40).kakao("userA")
    assert sender(app, "userA") != SenderIds(b"j" * 40).kakao("userA")
    assert not (tmp_path / "id_key").exists()
    app.extensions["bokji.kakao"].close()


def test_sender_ids_are_keyed_per_channel_and_refuse_a_short_key() -> None:
    ids = SenderIds(b"0123456789abcdef")
    assert ids.kakao("u1") == ids.kakao("u1") != ids.kakao("u2")
    assert ids.pseudonym("api", "u1").startswith("api:") and ids.pseudonym("api", "u1")[4:] != ids.kakao("u1")[6:]
    with pytest.raises(ValueError):
        SenderIds(b"short")


def test_the_event_api_reaches_the_user_after_a_restart_yet_the_database_holds_no_raw_key(
    tmp_path: Path, rasa: SlowRasa, receiver: Receiver
) -> None:
    """The botUserKey is kept sealed with the id key: any replica (or a restarted one) can push; a dump cannot read it."""
    base = receiver.url.split("/v1/")[0]
    options = dict(event_api=True, event_api_url=base, rest_api_key=SecretStr("rest-key-123"), bot_id="64f0c1d2e3a4b5c6!",
                   answer_budget_s=2.0)  # fmt: skip
    rasa.replies["사람이랑 얘기할래요"] = [{"text": "연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    first = make_app(tmp_path, rasa, **options)
    ask(first.test_client(), skill_request("사람이랑 얘기할래요", user_id=USER))
    first.extensions["bokji.kakao"].close()
    app = make_app(tmp_path, rasa, **options)  # restarted (or another replica): nothing of the user in its memory
    handoffs: HandoffService = app.extensions["bokji.handoffs"]
    agent = staff(handoffs, "kim", name="김상담")
    [view] = handoffs.queue()
    handoffs.claim(view.id, agent)
    handoffs.reply(view.id, agent, "신분증을 가져오세요.")
    sent = [receiver.next(timeout=5)[1] for _ in range(2)]  # the joined notice, then the reply
    assert [b["user"][0]["id"] for b in sent] == [USER, USER]
    assert "상담원: 신분증을 가져오세요." in sent[-1]["event"]["data"]["text"]
    _, body, _ = ask(app.test_client(), skill_request("네", user_id=USER))
    assert "신분증을 가져오세요" not in texts(body), "what the Event API delivered is not repeated"
    assert USER not in database_text(app) and "OTHERRAWKEY" not in database_text(app)
    app.extensions["bokji.kakao"].close()


def test_a_sealed_key_is_unreadable_with_another_id_key() -> None:
    sealed = SenderIds(b"k" * 40).seal("8a1d6f0c2b7e4d9fRAWKEY")
    assert "RAWKEY" not in sealed
    assert SenderIds(b"k" * 40).unseal(sealed) == "8a1d6f0c2b7e4d9fRAWKEY"
    assert SenderIds(b"j" * 40).unseal(sealed) is None


def test_conversations_kept_under_a_raw_key_from_before_are_refiled_and_continue(tmp_path: Path, rasa: SlowRasa) -> None:
    from channels.privacy.legacy_ids import refile_legacy_kakao
    from channels.privacy.tracker import TrackerEvents
    from channels.store.database import Database
    from channels.store.models import Handoff
    from channels.store.transcripts import TranscriptStore
    from tests.unit.test_rasa_tracker_store import rasa_store, senders

    # A database and a Rasa tracker store from before pseudonymous ids: the botUserKey is in the sender id.
    database = Database(f"sqlite:///{tmp_path / 'conversations.sqlite3'}")
    database.upgrade()
    transcripts = TranscriptStore(database)
    legacy = f"kakao:{USER}"
    transcripts.add_turn(legacy, "citizen", "주거급여 받을 수 있나요", None)
    transcripts.add_turn(legacy, "bot", "가구원 수를 알려 주세요.", None)
    transcripts.add_turn("web:w-untouched", "citizen", "안녕하세요", None)
    with database.session() as session:
        session.add(Handoff(sender_id=legacy, channel="kakao", state="waiting", reason="requested"))
    tracker = rasa_store(tmp_path / "rasa_tracker.sqlite3", [(legacy, datetime.now(timezone.utc))])

    ids = SenderIds.from_settings(PrivacySettings(), tmp_path)
    assert refile_legacy_kakao(database, ids, TrackerEvents(f"sqlite:///{tracker}")) == 1
    assert refile_legacy_kakao(database, ids, TrackerEvents(f"sqlite:///{tracker}")) == 0  # idempotent

    # The web app re-files at start: a conversation still under a raw key is moved before any message is handled.
    transcripts.add_turn("kakao:OTHERRAWKEY", "citizen", "아동수당", None)
    app = make_app(tmp_path, rasa)
    assert [t["text"] for t in app.extensions["bokji.transcripts"].turns(sender(app, "OTHERRAWKEY"))] == ["아동수당"]
    ask(app.test_client(), skill_request("네식구요", user_id=USER))
    app.extensions["bokji.kakao"].close()
    who = sender(app, USER)
    assert [t["text"] for t in app.extensions["bokji.transcripts"].turns(who)][:3] == [
        "주거급여 받을 수 있나요", "가구원 수를 알려 주세요.", "네식구요",
    ]  # fmt: skip
    assert app.extensions["bokji.handoffs"].active(who) is not None  # still waiting for a person
    assert senders(tracker) == [who]  # Rasa's form state follows the user too
    assert USER not in database_text(app) and "OTHERRAWKEY" not in database_text(app)
    assert app.extensions["bokji.transcripts"].turns("web:w-untouched")  # other channels are left alone
