"""The HTTP layer with a stand-in for Rasa (the real Rasa runs in tests/integration)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.unit.fakes import BUTTON, ScriptedRasa


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def post(client: FlaskClient, body: object) -> Any:
    return client.post("/api/v1/chat", json=body)


def test_chat_returns_text_buttons_and_sources(client: FlaskClient, rasa: ScriptedRasa) -> None:
    response = post(client, {"session_id": "t1", "text": "기초연금 얼마 받을 수 있어요?"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["session_id"] == "t1"
    [message] = body["messages"]
    assert "349,700원" in message["text"]
    assert message["buttons"] == [BUTTON]
    assert message["sources"][0]["updated_at"] == "2026-01-09"
    assert rasa.sent == [("api:test:t1", "기초연금 얼마 받을 수 있어요?")]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"session_id": "t1", "text": ""}, "empty_text"),
        ({"session_id": "t1", "text": "   \n "}, "empty_text"),
        ({"session_id": "t1"}, "missing_field"),
        ({"text": "안녕"}, "missing_field"),
        ({"session_id": 5, "text": "안녕"}, "invalid_session_id"),
        ({"session_id": "../../etc", "text": "안녕"}, "invalid_session_id"),
        ({"session_id": "t1", "text": ["안녕"]}, "invalid_text"),
        ({"session_id": "t1", "text": "가" * 1001}, "text_too_long"),
        (["session_id", "text"], "invalid_json"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client: FlaskClient, rasa: ScriptedRasa, body: object, code: str) -> None:
    response = post(client, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert rasa.sent == []


def test_invalid_json_and_wrong_content_type(client: FlaskClient) -> None:
    broken = client.post("/api/v1/chat", data='{"session_id": "t1", "text": ', content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "invalid_json"
    form = client.post("/api/v1/chat", data={"session_id": "t1", "text": "안녕"})
    assert form.status_code == 415


def test_100kb_body_is_refused_and_the_server_keeps_serving(client: FlaskClient) -> None:
    huge = client.post("/api/v1/chat", json={"session_id": "t1", "text": "가" * 100_000})
    assert huge.status_code == 413
    assert "너무" in huge.get_json()["error"]["message"]
    assert post(client, {"session_id": "t1", "text": "기초연금"}).status_code == 200


def test_rasa_down_gives_a_korean_apology_not_a_stack_trace(client: FlaskClient, rasa: ScriptedRasa) -> None:
    rasa.down = True
    response = post(client, {"session_id": "t1", "text": "기초연금 얼마예요"})
    assert response.status_code == 200 and response.get_json()["degraded"] is True  # an answer to show, never a 5xx
    [message] = response.get_json()["messages"]
    assert "죄송해요" in message["text"] and "129" in message["text"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_crisis_while_rasa_is_down_still_gets_helplines_and_a_handoff(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa
) -> None:
    rasa.down = True
    message, notice = post(client, {"session_id": "t9", "text": "너무 힘들어서 죽고 싶어요"}).get_json()["messages"]
    assert message["text"].index("109") < message["text"].index("129") < message["text"].index("119")
    [queued] = app.extensions["bokji.handoffs"].queue()
    assert (queued.sender_id, queued.reason, queued.urgent, queued.state) == ("api:test:t9", "crisis", True, "waiting")
    assert notice["buttons"] == []  # an urgent chat is not offered a way out of the queue


def test_personal_data_is_masked_before_rasa_and_the_transcript(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, tmp_path: Path
) -> None:
    post(client, {"session_id": "t2", "text": "제 번호는 010-1234-5678 이에요"})
    assert rasa.sent[-1][1] == "제 번호는 [전화번호] 이에요"
    turns = app.extensions["bokji.transcripts"].turns("api:test:t2")
    assert [t["role"] for t in turns] == ["citizen", "bot"]
    raw = sqlite3.connect(tmp_path / "conversations.sqlite3").execute("SELECT group_concat(text) FROM turns").fetchone()[0]
    assert "5678" not in raw


def test_handoff_flag_from_rasa_is_queued_for_staff(app: Flask, client: FlaskClient, rasa: ScriptedRasa) -> None:
    rasa.reply = [
        {"text": "상담원에게 연결해 드릴게요."},
        {"custom": {"sources": [], "handoff": {"reason": "requested"}}},
    ]
    post(client, {"session_id": "t3", "text": "상담원 연결해 주세요"})
    post(client, {"session_id": "t3", "text": "상담원이요"})
    assert [h.sender_id for h in app.extensions["bokji.handoffs"].queue()] == ["api:test:t3"]


def test_an_answer_rasa_split_at_blank_lines_stays_one_message_with_its_sources(client: FlaskClient, rasa: ScriptedRasa) -> None:
    whole = "의료급여 선정기준은 40%예요 [1].\n\n※ 안내 자료를 바탕으로 정리한 답변이에요."
    source = {"title": "의료급여 안내", "url": "https://www.bokjiro.go.kr", "updated_at": "2026-01-02"}
    rasa.reply = [
        {"text": "먼저 안내해 드릴게요."},
        {"text": "의료급여 선정기준은 40%예요 [1]."},  # Rasa's REST channel splits texts without buttons
        {"text": "※ 안내 자료를 바탕으로 정리한 답변이에요."},
        {"custom": {"text": whole, "sources": [source], "mode": "generated"}},
        {"text": "첫 줄"},
        {"text": "둘째 줄"},  # "첫 줄\n\n\n\n둘째 줄": the empty part between gives no message
        {"custom": {"text": "첫 줄\n\n\n\n둘째 줄", "sources": [], "mode": "faq"}},
    ]
    messages = post(client, {"session_id": "t4", "text": "의료급여 기준"}).get_json()["messages"]
    assert [m["text"] for m in messages] == ["먼저 안내해 드릴게요.", whole, "첫 줄\n\n\n\n둘째 줄"]
    assert messages[0]["sources"] == [] and messages[1]["sources"] == [source]


def test_unknown_route_and_method_get_json_errors(client: FlaskClient) -> None:
    assert client.get("/api/v2/nothing").get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/chat").status_code == 405


def test_index_page_is_korean_and_embeds_the_widget(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="ko"' in html and "복지 안내" in html
    assert "widget.js" in html
    assert "api/v1/widget/chat" in client.get("/widget.js").get_data(as_text=True)


def test_healthz_reports_each_dependency(client: FlaskClient) -> None:
    response = client.get("/healthz")
    body = response.get_json()
    assert set(body["dependencies"]) == {"rasa", "actions", "store"}
    assert response.status_code in (200, 503)
    assert (response.status_code == 200) == (body["status"] == "ok")


def test_a_database_failure_is_a_korean_500_and_the_log_names_the_code_not_the_data(
    client: FlaskClient, rasa: ScriptedRasa, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    from channels.store.transcripts import TranscriptStore

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"  # what the driver sets (Python 3.11)

    params = {"text": "제 주민번호는 900101-1234567"}

    def locked(*args: Any, **kwargs: Any) -> int:
        raise OperationalError("INSERT INTO turns", params, busy)

    monkeypatch.setattr(TranscriptStore, "add_turn", locked)
    with caplog.at_level("ERROR"):
        response = post(client, {"session_id": "t1", "text": "기초연금 얼마 받을 수 있어요?"})
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "Traceback" not in response.get_data(as_text=True)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "OperationalError (SQLITE_BUSY)" in logged
    assert "900101" not in logged and "database is locked" not in logged
