"""The KakaoTalk skill endpoint with a stand-in for Rasa and a local receiver standing in for Kakao's callbackUrl.

Every response is checked against the SkillResponse format and Kakao's limits, and against the 5-second rule.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from channels.app import create_app
from channels.rasa_client import RasaUnavailableError
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

    def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        self.sent.append((sender_id, text))
        if self.error is not None:
            raise self.error
        return self.replies.get(text, self.default)


class Receiver:
    """A local HTTP server standing in for Kakao's callbackUrl; keeps every POSTed body."""

    def __init__(self) -> None:
        self.bodies: queue.Queue[tuple[float, Any]] = queue.Queue()
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                received.put((time.monotonic(), json.loads(self.rfile.read(length))))
                payload = b'{"taskId": "t", "status": "SUCCESS", "message": "", "timestamp": 0}'
                self.send_response(200)
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


@pytest.fixture
def rasa() -> SlowRasa:
    return SlowRasa()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def make_app(tmp_path: Path, rasa: SlowRasa, **kakao: Any) -> Flask:
    options: dict[str, Any] = {"token": SecretStr(TOKEN), "answer_budget_s": 0.3, "callback_hosts": ["127.0.0.1"], **kakao}
    return create_app(AppSettings(data_dir=tmp_path, kakao=KakaoSettings(**options)), engine=rasa)


@pytest.fixture
def app(tmp_path: Path, rasa: SlowRasa) -> Iterator[Flask]:
    app = make_app(tmp_path, rasa)
    yield app
    app.extensions["bokji.kakao"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


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


# ---- plain requests -------------------------------------------------------------------------------------
def test_plain_question_gets_text_sources_card_and_quick_replies(client: FlaskClient, rasa: SlowRasa) -> None:
    status, body, elapsed = ask(client, skill_request("기초연금 얼마 받을 수 있어요?"))
    assert status == 200 and elapsed < KAKAO_LIMIT_S
    assert "349,700원" in texts(body)
    card = list_card(body)
    assert card["items"][0]["link"]["web"] == "https://basicpension.mohw.go.kr"
    assert card["items"][0]["description"] == "2026-01-09 기준"
    assert {"action": "webLink", "label": "출처 보기", "webLinkUrl": "https://basicpension.mohw.go.kr"} in card["buttons"]
    [reply] = body["template"]["quickReplies"]
    assert reply["label"] == "기초연금 신청 방법" and reply["messageText"] == "기초연금 신청 방법"
    assert reply["extra"] == {"payload": "기초연금 어디서 신청해요?"}
    assert rasa.sent == [("kakao:8a1d6f0c2b7e4d9f", "기초연금 얼마 받을 수 있어요?")]


def test_turns_are_recorded_per_kakao_user_and_masked(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    ask(client, skill_request("제 번호는 010-1234-5678 이에요", user_id="userA"))
    ask(client, skill_request("기초연금 얼마예요", user_id="userB"))
    assert rasa.sent[0] == ("kakao:userA", "제 번호는 [전화번호] 이에요")
    turns = app.extensions["bokji.transcripts"].turns("kakao:userA")
    assert [t["role"] for t in turns] == ["citizen", "bot"] and "5678" not in turns[0]["text"]


def test_quick_reply_payload_from_client_extra_and_params_are_understood(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.replies["/request_human"] = [
        {"text": "상담원에게 연결해 드릴게요. 기다리기 어려우시면 보건복지상담센터(129)로 전화하셔도 돼요."},
        {"custom": {"sources": [SOURCE], "handoff": {"reason": "requested"}}},
    ]
    request = skill_request("상담원 연결", client_extra={"payload": "/request_human"}, params={"program": "기초연금"})
    _, body, _ = ask(client, request)
    assert rasa.sent[-1] == ("kakao:8a1d6f0c2b7e4d9f", "/request_human")
    assert "상담원" in texts(body)
    assert {"action": "operator", "label": "상담직원 연결"} in list_card(body)["buttons"]
    handoffs = app.extensions["bokji.transcripts"].open_handoffs()
    assert [(h["sender_id"], h["reason"]) for h in handoffs] == [("kakao:8a1d6f0c2b7e4d9f", "requested")]
    citizen = app.extensions["bokji.transcripts"].turns("kakao:8a1d6f0c2b7e4d9f")[0]
    assert citizen["text"] == "/request_human" and citizen["meta"] == {"label": "상담원 연결"}


def test_handoff_without_sources_still_offers_the_operator(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.default = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    _, body, _ = ask(client, skill_request("사람이랑 얘기할래요"))
    card = list_card(body)
    assert card["buttons"] == [{"action": "operator", "label": "상담직원 연결"}]


def test_operator_button_can_be_turned_off(tmp_path: Path, rasa: SlowRasa) -> None:
    rasa.default = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    app = make_app(tmp_path, rasa, operator_button=False)
    _, body, _ = ask(app.test_client(), skill_request("사람이랑 얘기할래요"))
    assert "operator" not in json.dumps(body)
    app.extensions["bokji.kakao"].close()


# ---- the shared secret ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("token", "path"), [(None, "/kakao/skill"), ("wrong", "/kakao/skill"), (None, "/kakao/skill/wrong")])
def test_requests_without_the_secret_are_refused_with_a_valid_body(
    client: FlaskClient, rasa: SlowRasa, token: str | None, path: str
) -> None:
    status, body, _ = ask(client, skill_request("기초연금"), token=token, path=path)
    assert status == 401 and "허용되지 않은" in texts(body)
    assert rasa.sent == []


def test_the_secret_may_be_in_the_path(client: FlaskClient, rasa: SlowRasa) -> None:
    status, body, _ = ask(client, skill_request("기초연금"), token=None, path=f"/kakao/skill/{TOKEN}")
    assert status == 200 and "349,700원" in texts(body)


def test_without_a_configured_secret_the_endpoint_is_off(tmp_path: Path, rasa: SlowRasa) -> None:
    app = create_app(AppSettings(data_dir=tmp_path), engine=rasa)
    status, body, _ = ask(app.test_client(), skill_request("기초연금"), token="")
    assert status == 403 and "준비되지 않았어요" in texts(body)
    assert rasa.sent == []
    assert app.test_client().get("/kakao/health").get_json() == {"kakao": "not_configured"}


def test_the_secret_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOKJI_KAKAO__TOKEN", "from-env")
    monkeypatch.setenv("BOKJI_KAKAO__ANSWER_BUDGET_S", "2.5")
    settings = AppSettings(data_dir=tmp_path)
    assert settings.kakao.token.get_secret_value() == "from-env" and settings.kakao.answer_budget_s == 2.5
    assert "from-env" not in repr(settings)


# ---- malformed and oversized ----------------------------------------------------------------------------
MALFORMED: list[Any] = [
    b"",
    b"not json at all",
    b'{"userRequest": ',
    b"\xff\xfe\x00garbage",
    [],
    "문자열",
    {},
    {"userRequest": None},
    {"userRequest": {"utterance": "기초연금"}},
    {"userRequest": {"utterance": "기초연금", "user": {"type": "botUserKey"}}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": 12345}}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": "has space"}}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": "x" * 200}}},
    {"userRequest": {"utterance": ["기초연금"], "user": {"id": "u1"}}},
    {"userRequest": {"utterance": None, "user": {"id": "u1"}}},
    {"userRequest": {"utterance": "기초연금", "user": "u1"}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": "u1"}, "callbackUrl": 5}, "action": "x"},
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_get_a_korean_skill_response(client: FlaskClient, rasa: SlowRasa, body: Any) -> None:
    status, response, elapsed = ask(client, body)
    assert status == 200 and elapsed < KAKAO_LIMIT_S
    assert "요" in texts(response)
    if rasa.sent:  # only the last case is well-formed enough to answer (a bad callbackUrl is ignored)
        assert rasa.sent == [("kakao:u1", "기초연금")]


@pytest.mark.parametrize("utterance", ["", "   ", "\n"])
def test_empty_utterance_asks_for_words(client: FlaskClient, rasa: SlowRasa, utterance: str) -> None:
    _, body, _ = ask(client, skill_request(utterance))
    assert "비어 있어요" in texts(body) and rasa.sent == []


def test_oversized_body_and_overlong_utterance_get_a_polite_answer(client: FlaskClient, rasa: SlowRasa) -> None:
    _, body, _ = ask(client, skill_request("가" * 100_000))
    assert "너무 커요" in texts(body)
    _, body, _ = ask(client, skill_request("가" * 1001))
    assert "1,000자 이내" in texts(body)
    assert rasa.sent == []
    _, body, _ = ask(client, skill_request("기초연금"))
    assert "349,700원" in texts(body)


def test_a_failing_conversation_still_answers_in_format(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.error = RuntimeError("boom")
    _, body, _ = ask(client, skill_request("기초연금 얼마예요"))
    assert "죄송해요" in texts(body) and "boom" not in json.dumps(body)
    rasa.error = RasaUnavailableError("down")
    _, body, _ = ask(client, skill_request("너무 힘들어서 죽고 싶어요"))
    assert texts(body).index("109") < texts(body).index("129")
