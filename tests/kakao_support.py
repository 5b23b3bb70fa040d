"""KakaoTalk skill test support: Kakao-format requests, the SkillResponse validator, a slow Rasa stand-in
and a local receiver standing in for Kakao's callbackUrl. Shared by the unit and live tests.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from channels.app import create_app
from channels.settings import AppSettings, KakaoSettings

TOKEN = "test-skill-secret"
KAKAO_LIMIT_S = 5.0
BUTTON_ACTIONS = {"webLink", "message", "phone", "block", "share", "operator"}


# ---- the format, as a validator ---------------------------------------------------------------------
def check_button(button: dict[str, Any]) -> None:
    assert isinstance(button.get("label"), str) and 1 <= len(button["label"]) <= 14, button
    assert button.get("action") in BUTTON_ACTIONS, button
    if button["action"] == "webLink":
        assert button["webLinkUrl"].startswith(("https://", "http://")), button
    if button["action"] == "message":
        assert isinstance(button.get("messageText"), str) and button["messageText"], button
    if button["action"] == "phone":
        assert isinstance(button.get("phoneNumber"), str) and button["phoneNumber"], button
    if button["action"] == "block":
        assert isinstance(button.get("blockId"), str) and button["blockId"], button


def check_output(output: dict[str, Any]) -> None:
    assert isinstance(output, dict) and len(output) == 1, output
    [(kind, body)] = output.items()
    if kind == "simpleText":
        assert isinstance(body["text"], str) and 1 <= len(body["text"]) <= 1000
    elif kind == "basicCard":
        assert len(body.get("title", "")) <= 50 and len(body.get("description", "")) <= 230
        assert len(body.get("buttons", [])) <= 3
        for button in body.get("buttons", []):
            check_button(button)
    elif kind == "listCard":
        assert isinstance(body["header"]["title"], str) and 1 <= len(body["header"]["title"]) <= 15
        assert 1 <= len(body["items"]) <= 5
        for item in body["items"]:
            assert isinstance(item["title"], str) and 1 <= len(item["title"]) <= 36
            assert len(item.get("description", "")) <= 16
            if "link" in item:
                assert item["link"]["web"].startswith(("https://", "http://"))
        assert len(body.get("buttons", [])) <= 2
        for button in body.get("buttons", []):
            check_button(button)
    else:
        pytest.fail(f"unexpected output type {kind}")


def assert_skill_response(body: Any) -> dict[str, Any]:
    """A SkillResponse Kakao accepts: version 2.0, at most 3 outputs and 10 quick replies, every limit kept."""
    assert isinstance(body, dict), body
    assert body.get("version") == "2.0"
    text = json.dumps(body, ensure_ascii=False)
    assert "Traceback" not in text and "Exception" not in text
    if body.get("useCallback"):
        assert body["useCallback"] is True
        assert isinstance(body["data"]["text"], str) and body["data"]["text"]
        return body
    template = body["template"]
    assert set(template) <= {"outputs", "quickReplies"}
    assert 1 <= len(template["outputs"]) <= 3
    for output in template["outputs"]:
        check_output(output)
    replies = template.get("quickReplies", [])
    assert len(replies) <= 10
    for reply in replies:
        assert isinstance(reply["label"], str) and 1 <= len(reply["label"]) <= 14, reply
        assert reply["action"] in ("message", "block")
        if reply["action"] == "message":
            assert isinstance(reply["messageText"], str) and reply["messageText"]
    return body


def texts(body: dict[str, Any]) -> str:
    return "\n".join(o["simpleText"]["text"] for o in body["template"]["outputs"] if "simpleText" in o)


def list_card(body: dict[str, Any]) -> dict[str, Any]:
    [card] = [o["listCard"] for o in body["template"]["outputs"] if "listCard" in o]
    return card


def labels(body: dict[str, Any]) -> list[str]:
    return [r["label"] for r in body["template"].get("quickReplies", [])]


# ---- Kakao's request format -------------------------------------------------------------------------
def skill_request(
    utterance: str,
    user_id: str = "8a1d6f0c2b7e4d9f",
    callback_url: str | None = None,
    client_extra: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A SkillPayload shaped like Kakao's developer guide."""
    user_request: dict[str, Any] = {
        "timezone": "Asia/Seoul",
        "params": {"ignoreMe": "true", "surface": "Kakaotalk.plusfriend"},
        "block": {"id": "64f0c1d2e3a4b5c6d7e8f901", "name": "복지 질문"},
        "utterance": utterance,
        "lang": "ko",
        "user": {
            "id": user_id,
            "type": "botUserKey",
            "properties": {"plusfriendUserKey": "Q9xq0aBcDeF", "isFriend": True},
        },
    }
    if callback_url is not None:
        user_request["callbackUrl"] = callback_url
    return {
        "intent": {"id": "64f0c1d2e3a4b5c6d7e8f901", "name": "복지 질문"},
        "userRequest": user_request,
        "contexts": [],
        "bot": {"id": "64f0c1d2e3a4b5c6d7e8f000", "name": "예시시 복지 안내"},
        "action": {
            "name": "bokji_skill",
            "clientExtra": client_extra if client_extra is not None else {},
            "params": params or {},
            "id": "64f0c1d2e3a4b5c6d7e8f111",
            "detailParams": {k: {"origin": v, "value": v, "groupName": ""} for k, v in (params or {}).items()},
        },
    }


# ---- stand-ins ----------------------------------------------------------------------------------------
ANSWER = "2026년 기초연금 기준연금액은 월 349,700원이에요. 소득인정액이 선정기준액 이하인 만 65세 이상 어르신이 받으실 수 있어요."
SOURCE = {"title": "보건복지부 2026년 기초연금 기준연금액 (서울신문 보도, 2026-01-09)", "url": "https://basicpension.mohw.go.kr",
          "updated_at": "2026-01-09"}  # fmt: skip


class SlowRasa:
    """Answers like Rasa's REST webhook after ``delay`` seconds; records what it was sent."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.sent: list[tuple[str, str]] = []
        self.error: Exception | None = None
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.default = [
            {"text": ANSWER, "buttons": [{"title": "기초연금 신청 방법", "payload": "기초연금 어디서 신청해요?"}]},
            {"custom": {"sources": [SOURCE], "mode": "faq"}},
        ]

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        self.sent.append((sender_id, text))
        if self.error is not None:
            raise self.error
        return self.replies.get(text, self.default)


class Receiver:
    """A local HTTP server standing in for Kakao's callbackUrl (or Event API); keeps every POSTed body.

    ``requests`` also keeps each request's path and headers; ``status`` is what it answers with.
    """

    def __init__(self) -> None:
        self.bodies: queue.Queue[tuple[float, Any]] = queue.Queue()
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        received = self.bodies
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                received.put((time.monotonic(), body))
                if owner.status == 200:
                    payload = b'{"taskId": "t", "status": "SUCCESS", "message": "", "timestamp": 0}'
                else:
                    payload = b'{"taskId": "", "status": "FAIL", "message": "wallet", "timestamp": 0}'
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/callback/one-time-token"

    def next(self, timeout: float) -> tuple[float, Any]:
        return self.bodies.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_app(tmp_path: Path, rasa: SlowRasa, **kakao: Any) -> Flask:
    options: dict[str, Any] = {"token": SecretStr(TOKEN), "answer_budget_s": 0.3, "callback_hosts": ["127.0.0.1"], **kakao}
    return create_app(AppSettings(data_dir=tmp_path, kakao=KakaoSettings(**options)), engine=rasa)


def sender(app: Flask, user_id: str) -> str:
    """The sender id the app files a Kakao user under (a keyed hash of their botUserKey)."""
    return str(app.extensions["bokji.kakao"].sender_ids.kakao(user_id))


def ask(
    client: FlaskClient, body: Any, token: str | None = TOKEN, path: str = "/kakao/skill"
) -> tuple[int, dict[str, Any], float]:
    """POST like Kakao does; returns status, the validated body and the seconds it took."""
    headers = {"X-Bokji-Kakao-Token": token} if token is not None else {}
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    started = time.monotonic()
    response = client.post(path, data=data, headers=headers, content_type="application/json;charset=UTF-8")
    elapsed = time.monotonic() - started
    assert response.is_json, response.get_data(as_text=True)
    return response.status_code, assert_skill_response(response.get_json()), elapsed
