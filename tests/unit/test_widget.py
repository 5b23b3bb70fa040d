"""The website widget's endpoints (chat with ids, history, ratings), its script and the demo page."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.app import create_app
from channels.settings import AppSettings, WidgetSettings
from tests.citizen_support import session_headers
from tests.unit.fakes import BUTTON, SOURCE, ScriptedRasa


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa) -> Flask:
    settings = AppSettings(data_dir=tmp_path, widget=WidgetSettings(allowed_origins=["https://www.yesi.go.kr"], history_limit=6))
    return create_app(settings, engine=rasa)


def say(client: FlaskClient, session: str, text: str) -> Any:
    response = client.post("/api/v1/widget/chat", json={"session_id": session, "text": text})
    assert response.status_code in (200, 503)
    return response.get_json()


def rate(client: FlaskClient, session: str, message_id: object, rating: object) -> Any:
    return client.post("/api/v1/feedback", json={"session_id": session, "message_id": message_id, "rating": rating})


def test_widget_chat_answers_with_an_id_sources_and_quick_replies(client: FlaskClient, rasa: ScriptedRasa) -> None:
    body = say(client, "w-1", "기초연금 얼마 받을 수 있어요?")
    [message] = body["messages"]
    assert isinstance(message["id"], int) and message["role"] == "bot"
    assert "349,700원" in message["text"] and message["sources"] == [SOURCE]
    assert message["buttons"] == [BUTTON]
    assert message["handoff"] is False and message["feedback"] is None
    assert rasa.sent == [("web:w-1", "기초연금 얼마 받을 수 있어요?")]


def test_public_chat_api_shape_is_unchanged(client: FlaskClient) -> None:
    body = client.post("/api/v1/chat", json={"session_id": "t1", "text": "기초연금"}).get_json()
    assert set(body) == {"session_id", "messages", "degraded"}  # degraded: added, an apology rather than an answer
    assert set(body["messages"][0]) == {"text", "buttons", "sources"}


def test_widget_chat_validates_like_the_api(client: FlaskClient, app: Flask, rasa: ScriptedRasa) -> None:
    held = session_headers(app, "w-1")
    for bad in ({"session_id": "w-1", "text": " "}, {"session_id": "../x", "text": "안녕"}, {"session_id": "w-1"}):
        response = client.post("/api/v1/widget/chat", json=bad, headers=held)
        assert response.status_code == 400 and response.get_json()["error"]["message"]
    assert rasa.sent == []


def test_rasa_down_still_gives_a_korean_answer_to_show(client: FlaskClient, rasa: ScriptedRasa) -> None:
    rasa.down = True
    response = client.post("/api/v1/widget/chat", json={"session_id": "w-2", "text": "기초연금"})
    assert response.status_code == 200 and response.get_json()["degraded"] is True
    [message] = response.get_json()["messages"]
    assert "죄송해요" in message["text"] and message["buttons"][0]["title"] == "다시 보내기"


def test_handoff_is_flagged_for_the_widget(client: FlaskClient, rasa: ScriptedRasa) -> None:
    rasa.reply = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    message, notice = say(client, "w-3", "/request_human")["messages"]
    assert message["handoff"] is True
    # Nobody has the console open in this test: the citizen is told so, with when and 129, and may cancel.
    assert "129" in notice["text"] and "상담 시간" in notice["text"]
    assert notice["buttons"] == [{"title": "대기 취소하고 챗봇과 계속하기", "payload": "/cancel_handoff"}]


def test_ratings_are_stored_and_the_latest_counts(client: FlaskClient, tmp_path: Path) -> None:
    [message] = say(client, "w-4", "기초연금")["messages"]
    assert rate(client, "w-4", message["id"], "up").status_code == 200
    assert rate(client, "w-4", message["id"], "down").get_json()["rating"] == "down"
    db = sqlite3.connect(tmp_path / "conversations.sqlite3")
    assert db.execute("SELECT turn_id, sender_id, rating FROM feedback").fetchall() == [(message["id"], "web:w-4", "down")]


def test_ratings_only_for_bot_messages_of_the_same_session(client: FlaskClient, app: Flask) -> None:
    [message] = say(client, "w-5", "기초연금")["messages"]
    assert rate(client, "someone-else", message["id"], "up").status_code == 404
    citizen_turn = message["id"] - 1
    assert rate(client, "w-5", citizen_turn, "up").status_code == 404
    assert rate(client, "w-5", 999_999, "up").get_json()["error"]["code"] == "unknown_message"
    for message_id, rating in ((message["id"], "meh"), ("1", "up"), (True, "up"), (0, "up"), (None, "down")):
        response = rate(client, "w-5", message_id, rating)
        assert response.status_code == 400 and response.get_json()["error"]["message"]
    assert app.extensions["bokji.transcripts"].feedback() == []


def test_history_shows_the_conversation_after_a_reload(client: FlaskClient) -> None:
    [first] = say(client, "w-6", "제 번호는 010-1234-5678 인데 기초연금 얼마예요?")["messages"]
    rate(client, "w-6", first["id"], "up")
    say(client, "w-6", "신청은요?")
    body = client.get("/api/v1/history?session_id=w-6").get_json()
    assert [m["role"] for m in body["messages"]] == ["citizen", "bot", "citizen", "bot"]
    assert body["messages"][0]["text"] == "제 번호는 [전화번호] 인데 기초연금 얼마예요?", "history shows masked text"
    bot = body["messages"][1]
    assert bot["id"] == first["id"] and bot["sources"] == [SOURCE] and bot["feedback"] == "up"
    assert bot["buttons"] == first["buttons"] and bot["created_at"]


def test_quick_reply_payload_shows_as_its_title_after_a_reload(client: FlaskClient, rasa: ScriptedRasa) -> None:
    response = client.post("/api/v1/widget/chat", json={"session_id": "w-9", "text": "/request_human", "label": "상담원 연결"})
    assert response.status_code == 200 and rasa.sent == [("web:w-9", "/request_human")]
    [citizen, _] = client.get("/api/v1/history?session_id=w-9").get_json()["messages"]
    assert citizen["text"] == "상담원 연결"
    for label in (["상담원 연결"], 5, "가" * 201):
        bad = client.post("/api/v1/widget/chat", json={"session_id": "w-9", "text": "/request_human", "label": label})
        assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_label"


def test_history_is_limited_and_newest_last(client: FlaskClient) -> None:
    for i in range(5):
        say(client, "w-7", f"질문 {i}")
    messages = client.get("/api/v1/history?session_id=w-7").get_json()["messages"]
    assert len(messages) == 6 and messages[-2]["text"] == "질문 4"


def test_history_of_a_new_or_other_channel_session_is_empty(client: FlaskClient, app: Flask) -> None:
    app.extensions["bokji.transcripts"].add_turn("kakao:u1", "citizen", "카카오에서 한 말")
    assert client.get("/api/v1/history?session_id=u1").get_json()["messages"] == []
    assert client.get("/api/v1/history?session_id=new-one").get_json() == {"session_id": "new-one", "messages": [], "handoff_state": "bot"}
    held = session_headers(app, "new-one")
    for bad in ("", "../../etc", "a" * 129):
        assert client.get("/api/v1/history", query_string={"session_id": bad}, headers=held).status_code == 400
    assert client.get("/api/v1/history").status_code == 401, "no token, no history"


def test_allowed_city_origin_may_call_the_api_from_its_page(client: FlaskClient) -> None:
    origin = {"Origin": "https://www.yesi.go.kr"}
    preflight = client.options("/api/v1/widget/chat", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.yesi.go.kr"
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    other = client.get("/api/v1/history?session_id=w-8", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_widget_script_is_served_and_talks_only_to_its_own_server(client: FlaskClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    script = response.get_data(as_text=True)
    for endpoint in ("api/v1/widget/chat", "api/v1/history", "api/v1/feedback", "static/widget.css"):
        assert endpoint in script
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", script))
    assert urls <= {"https://<chatbot", "http://www.w3.org/2000/svg"}, urls  # a comment and the SVG namespace
    for needed in ("aria-live", "aria-pressed", "aria-expanded", "localStorage", "isComposing", "prefers-reduced-motion"):
        assert needed in script
    css = client.get("/static/widget.css").get_data(as_text=True)
    assert "focus-visible" in css and "max-width: 480px" in css and "url(" not in css


def test_demo_page_embeds_the_widget_with_one_script_tag(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'lang="ko"' in html and "복지 안내 챗봇" in html
    assert html.count("<script") == 1 and 'src="/widget.js"' in html
