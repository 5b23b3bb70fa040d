"""The citizen's side of a handoff in the widget: live events, history after a reload, typing, cancelling."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels import widget
from channels.app import create_app
from channels.handoff import CANCELLED, JOINED, Actor, HandoffService
from channels.settings import AppSettings, HandoffSettings, WidgetSettings
from tests.citizen_support import session_headers
from tests.handoff_support import staff
from tests.unit.fakes import ScriptedRasa

CITY = "https://www.yesi.go.kr"
HANDOFF: list[dict[str, Any]] = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
ANSWER: list[dict[str, Any]] = [{"text": "2026년 기초연금은 월 349,700원이에요."}, {"custom": {"mode": "faq"}}]
Event = dict[str, Any]


@pytest.fixture
def rasa() -> ScriptedRasa:
    fake = ScriptedRasa()
    fake.reply = HANDOFF
    return fake


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(widget, "EVENTS_LIFETIME_S", 6.0)  # a stream that never gets what a test waits for ends soon
    settings = AppSettings(
        data_dir=tmp_path, widget=WidgetSettings(allowed_origins=[CITY]), handoff=HandoffSettings(typing_s=1.5)
    )
    return create_app(settings, engine=rasa)


@pytest.fixture
def handoffs(app: Flask) -> HandoffService:
    return app.extensions["bokji.handoffs"]


@pytest.fixture
def kim(handoffs: HandoffService) -> Actor:
    return staff(handoffs, "kim", name="김상담")


def say(client: FlaskClient, session: str, text: str, label: str | None = None) -> Any:
    body = {"session_id": session, "text": text, **({"label": label} if label else {})}
    response = client.post("/api/v1/widget/chat", json=body)
    assert response.status_code == 200
    return response.get_json()


def ask_for_a_person(client: FlaskClient, handoffs: HandoffService, session: str) -> tuple[int, int]:
    """The citizen presses 상담원 연결; returns the handoff id and the newest message id the widget shows."""
    messages = say(client, session, "/request_human", "상담원 연결")["messages"]
    assert messages[-1]["handoff_state"] == "waiting"
    assert {"title": "대기 취소하고 챗봇과 계속하기", "payload": "/cancel_handoff"} in messages[-1]["buttons"]
    view = handoffs.active(f"web:{session}")
    assert view is not None and view.state == "waiting"
    return view.id, messages[-1]["id"]


def events(response: Any, until: Callable[[list[Event]], bool]) -> list[Event]:
    """Read server-sent events until ``until`` holds (or the stream ends); each as {event, id, data}."""
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    seen: list[Event] = []
    buffer = ""
    try:
        for chunk in response.response:
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
                if "event" in fields:
                    seen.append({"event": fields["event"], "id": int(fields["id"]), "data": json.loads(fields["data"])})
            if until(seen):
                break
    finally:
        response.close()
    return seen


def messages_of(seen: list[Event]) -> list[dict[str, Any]]:
    return [e["data"] for e in seen if e["event"] == "message"]


def has_agent_reply(seen: list[Event]) -> bool:
    return any(m["role"] == "agent" for m in messages_of(seen))


def test_the_stream_brings_the_join_notice_typing_and_the_agent_reply_live(
    client: FlaskClient, handoffs: HandoffService, kim: Actor
) -> None:
    handoff_id, shown = ask_for_a_person(client, handoffs, "w-1")

    def agent() -> None:
        time.sleep(0.6)
        handoffs.claim(handoff_id, kim)
        time.sleep(0.9)
        handoffs.agent_typing(handoff_id, kim)
        time.sleep(0.9)
        handoffs.reply(handoff_id, kim, "안녕하세요, 상담원이에요. 무엇을 도와드릴까요?")

    acting = threading.Thread(target=agent)
    acting.start()
    response = client.get(f"/api/v1/widget/events?session_id=w-1&after_turn={shown}", headers={"Origin": CITY})
    assert response.headers["Access-Control-Allow-Origin"] == CITY
    seen = events(response, has_agent_reply)
    acting.join()

    states = [e["data"] for e in seen if e["event"] == "state"]
    assert states[0] == {"state": "waiting", "agent_typing": False}, "the state right away, before anything happens"
    assert {"state": "with_agent", "agent_typing": True} in states, "the agent's typing is shown"
    joined, reply = messages_of(seen)
    assert joined["role"] == "bot" and joined["text"] == JOINED and joined["handoff_state"] == "with_agent"
    assert reply["role"] == "agent" and reply["agent"] == "상담원" and reply["text"].startswith("안녕하세요, 상담원이에요")
    assert "김상담" not in json.dumps(seen, ensure_ascii=False), "the staff member's own name stays in the office"
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids) and ids[-1] > ids[0]


def test_a_reconnecting_stream_resumes_after_its_last_event(client: FlaskClient, handoffs: HandoffService, kim: Actor) -> None:
    handoff_id, _ = ask_for_a_person(client, handoffs, "w-2")
    handoffs.claim(handoff_id, kim)
    first = handoffs.reply(handoff_id, kim, "첫 번째 답장이에요.")
    resume_at = handoffs.last_event_id()
    handoffs.reply(handoff_id, kim, "두 번째 답장이에요.")
    response = client.get(f"/api/v1/widget/events?session_id=w-2&after_turn={first}", headers={"Last-Event-ID": str(resume_at)})
    seen = events(response, lambda s: len([e for e in s if e["event"] == "state"]) >= 2)
    assert [m["text"] for m in messages_of(seen)] == ["두 번째 답장이에요."]
    assert seen[-1]["data"] == {"state": "with_agent", "agent_typing": False}


def test_after_a_reload_history_shows_the_join_notice_and_the_reply_in_order(
    client: FlaskClient, handoffs: HandoffService, kim: Actor, rasa: ScriptedRasa
) -> None:
    handoff_id, _ = ask_for_a_person(client, handoffs, "w-3")
    handoffs.claim(handoff_id, kim)
    assert say(client, "w-3", "기초연금 신청하고 싶어요") == {"session_id": "w-3", "degraded": False, "messages": []}
    assert rasa.sent == [("web:w-3", "/request_human")], "the bot stays silent while a person has the chat"
    handoffs.reply(handoff_id, kim, "신청서는 행정복지센터에서 도와드려요.")
    body = client.get("/api/v1/history?session_id=w-3").get_json()
    assert body["handoff_state"] == "with_agent"
    shown = [(m["role"], m["text"]) for m in body["messages"]]
    assert shown[0] == ("citizen", "상담원 연결")
    assert shown[-3:] == [
        ("bot", JOINED),
        ("citizen", "기초연금 신청하고 싶어요"),
        ("agent", "신청서는 행정복지센터에서 도와드려요."),
    ]
    assert body["messages"][-1]["agent"] == "상담원"


def test_typing_shows_for_a_moment_then_expires(client: FlaskClient, handoffs: HandoffService, kim: Actor) -> None:
    handoff_id, _ = ask_for_a_person(client, handoffs, "w-4")
    handoffs.claim(handoff_id, kim)

    def state_now() -> dict[str, Any]:
        response = client.get("/api/v1/widget/events?session_id=w-4")
        return next(e for e in events(response, lambda s: bool(s)) if e["event"] == "state")["data"]

    handoffs.agent_typing(handoff_id, kim)
    assert state_now() == {"state": "with_agent", "agent_typing": True}
    time.sleep(2.6)  # typing_s is 1.5 here; the database keeps whole seconds
    assert state_now() == {"state": "with_agent", "agent_typing": False}

    # The citizen's own typing reaches the console, a ping per couple of seconds at most.
    assert client.post("/api/v1/widget/typing", json={"session_id": "w-4"}).status_code == 204
    assert handoffs.active("web:w-4").citizen_typing  # type: ignore[union-attr]
    before = handoffs.last_event_id()
    assert client.post("/api/v1/widget/typing", json={"session_id": "w-4"}).status_code == 204
    assert handoffs.last_event_id() == before, "a ping right after the last one is not written"


def test_cancelling_the_wait_gives_the_chat_back_to_the_bot(
    client: FlaskClient, handoffs: HandoffService, rasa: ScriptedRasa
) -> None:
    ask_for_a_person(client, handoffs, "w-5")
    waiting = say(client, "w-5", "아직인가요?")["messages"]
    assert len(waiting) == 1 and "기다리고 있어요" in waiting[0]["text"] and len(rasa.sent) == 1
    [cancelled] = say(client, "w-5", "/cancel_handoff", "대기 취소하고 챗봇과 계속하기")["messages"]
    assert cancelled["text"] == CANCELLED and cancelled["handoff_state"] == "cancelled"
    assert handoffs.active("web:w-5") is None
    assert client.get("/api/v1/history?session_id=w-5").get_json()["handoff_state"] == "bot"
    response = client.get("/api/v1/widget/events?session_id=w-5")
    assert events(response, lambda s: bool(s))[0]["data"] == {"state": "bot", "agent_typing": False}
    rasa.reply = ANSWER
    [answer] = say(client, "w-5", "기초연금 얼마예요?")["messages"]
    assert rasa.sent[-1] == ("web:w-5", "기초연금 얼마예요?") and "349,700원" in answer["text"]
    assert client.post("/api/v1/widget/typing", json={"session_id": "w-5"}).status_code == 204  # nothing to tell


def test_bad_requests_get_a_clear_korean_400(client: FlaskClient, app: Flask, handoffs: HandoffService) -> None:
    held = session_headers(app, "w-6")
    for bad in ("", "../../etc", "a" * 129, "w 1"):
        response = client.get("/api/v1/widget/events", query_string={"session_id": bad}, headers=held)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_session_id"
        response = client.post("/api/v1/widget/typing", json={"session_id": bad}, headers=held)
        assert response.status_code == 400 and "session_id" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/widget/events").status_code == 401, "no token, no stream"
    for bad in ("-1", "x", "1.5", "９"):
        response = client.get("/api/v1/widget/events", query_string={"session_id": "w-6", "after_turn": bad})
        assert response.status_code == 400 and "after_turn" in response.get_json()["error"]["message"]
    assert client.post("/api/v1/widget/typing", data="w-6").status_code == 415
    assert client.post("/api/v1/widget/typing", json=["w-6"]).status_code == 400
    assert handoffs.last_event_id() == 0, "nothing was written"


def test_a_city_page_may_resume_a_stream_from_its_own_origin(client: FlaskClient) -> None:
    preflight = client.options(
        "/api/v1/widget/events",
        headers={"Origin": CITY, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "last-event-id"},
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == CITY
    assert "Last-Event-ID" in preflight.headers["Access-Control-Allow-Headers"]


def test_streams_and_history_do_not_mix_sessions(client: FlaskClient, handoffs: HandoffService, kim: Actor) -> None:
    handoff_id, _ = ask_for_a_person(client, handoffs, "w-7")
    handoffs.claim(handoff_id, kim)
    handoffs.reply(handoff_id, kim, "w-7님께만 드리는 답장이에요.")
    seen = events(client.get("/api/v1/widget/events?session_id=w-8&after_turn=0"), lambda s: bool(s))
    assert messages_of(seen) == [] and seen[0]["data"]["state"] == "bot"
    assert client.get("/api/v1/history?session_id=w-8").get_json()["messages"] == []
