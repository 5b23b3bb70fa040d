"""Hostile input on every public endpoint: a clear Korean 4xx (a SkillResponse on KakaoTalk), never a 5xx or a traceback."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.app import create_app
from channels.settings import AppSettings, KakaoSettings
from tests.kakao_support import TOKEN, assert_skill_response, skill_request, texts
from tests.unit.fakes import ScriptedRasa

KAKAO = {"X-Bokji-Kakao-Token": TOKEN}
DEEP = "[" * 5000 + "]" * 5000
LONE = "기초연금 \ud800 얼마예요?"


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa) -> Flask:
    return create_app(AppSettings(data_dir=tmp_path, kakao=KakaoSettings(token=TOKEN)), engine=rasa)


def post_raw(client: FlaskClient, path: str, raw: str, **headers: str) -> Any:
    # json.dumps keeps a lone surrogate as the escape "\ud800", which is valid JSON
    return client.post(path, data=raw.encode("utf-8", "surrogatepass"), content_type="application/json", headers=headers)


def korean_error(response: Any, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    message = response.get_json()["error"]["message"]
    assert any("\uac00" <= c <= "\ud7a3" for c in message), message
    return str(message)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/chat", {"session_id": "s-1", "text": LONE}),
        ("/api/v1/widget/chat", {"session_id": "s-1", "text": LONE}),
        ("/api/v1/widget/chat", {"session_id": "s-1", "text": "/request_human", "label": "상담원 \udfff"}),
        ("/api/v1/widget/chat", {"session_id": "s-\ud800", "text": "안녕하세요"}),
        ("/api/v1/feedback", {"session_id": "s-1", "message_id": 1, "rating": "up\ud800"}),
        ("/api/v1/widget/typing", {"session_id": "s-1", "\ud800": 1}),
    ],
)
def test_lone_surrogates_are_a_korean_400_and_nothing_is_stored(
    client: FlaskClient, rasa: ScriptedRasa, path: str, body: dict[str, Any]
) -> None:
    message = korean_error(post_raw(client, path, json.dumps(body)), 400)
    assert "문자" in message
    assert rasa.sent == []
    assert client.get("/api/v1/history?session_id=s-1").get_json()["messages"] == []


@pytest.mark.parametrize(
    "path", ["/api/v1/chat", "/api/v1/widget/chat", "/api/v1/feedback", "/api/v1/widget/typing", "/console/api/chats"]
)
def test_json_nested_5000_deep_is_a_400_not_a_recursion_error(client: FlaskClient, path: str) -> None:
    response = post_raw(client, path, DEEP)
    assert 400 <= response.status_code < 500
    if path.startswith("/api/"):
        korean_error(response, 400)
    nested_object = '{"session_id": "s", "text": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}"
    assert post_raw(client, path, nested_object).status_code < 500


@pytest.mark.parametrize("message_id", [2**63, 2**64, -(2**63) - 1, 10**30])
def test_numbers_beyond_64_bits_are_a_400(client: FlaskClient, message_id: int) -> None:
    response = post_raw(client, "/api/v1/feedback", json.dumps({"session_id": "s-1", "message_id": message_id, "rating": "up"}))
    korean_error(response, 400)


def test_the_largest_64_bit_message_id_is_just_unknown(client: FlaskClient) -> None:
    response = client.post("/api/v1/feedback", json={"session_id": "s-1", "message_id": 2**63 - 1, "rating": "up"})
    korean_error(response, 404)


def test_kakao_answers_hostile_bodies_with_a_polite_skill_response(client: FlaskClient, rasa: ScriptedRasa) -> None:
    surrogate = json.dumps(skill_request(LONE))
    for raw in (DEEP, '{"a":' * 2000 + "1" + "}" * 2000, surrogate):
        response = post_raw(client, "/kakao/skill", raw, **KAKAO)
        assert response.status_code == 200
        body = assert_skill_response(response.get_json())
        assert "다시" in texts(body)
    assert rasa.sent == []


def test_oversized_bodies_are_a_korean_413(client: FlaskClient) -> None:
    big = json.dumps({"session_id": "s-1", "text": "가" * 20000})
    for path in ("/api/v1/chat", "/api/v1/widget/chat", "/api/v1/feedback"):
        assert "너무 커요" in korean_error(post_raw(client, path, big), 413)


def test_wrong_methods_and_unknown_paths_are_korean_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/chat")
    korean_error(response, 405)
    assert "POST" in response.headers["Allow"]
    korean_error(client.put("/api/v1/feedback", json={}), 405)
    korean_error(client.get("/api/v1/nothing-here"), 404)


def test_a_range_past_the_end_of_the_widget_script_is_a_korean_416(client: FlaskClient) -> None:
    response = client.get("/widget.js", headers={"Range": "bytes=99999999-"})
    korean_error(response, 416)


def test_an_unexpected_error_is_a_korean_500_logged_once_without_the_message(
    client: FlaskClient, rasa: ScriptedRasa, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "우리 집 사정이 너무 어려워요 표지문구"  # no personal data: masking leaves it as it is

    def broken(sender_id: str, text: str, metadata: Any = None) -> Any:
        raise RuntimeError(text)

    monkeypatch.setattr(rasa, "send", broken)
    with caplog.at_level(logging.ERROR):
        response = client.post("/api/v1/chat", json={"session_id": "s-9", "text": secret})
    korean_error(response, 500)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "RuntimeError" in errors[0].getMessage()
    assert "표지문구" not in caplog.text
