"""Server-issued citizen sessions: only the token's holder reads, rates or continues a conversation; API keys for integrations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from channels import widget
from channels.app import create_app
from channels.citizen_sessions import HEADER, SALT
from channels.settings import AppSettings, RateLimitSettings, WidgetSettings
from tests.citizen_support import API_AUTH, TEST_API_KEY, open_session
from tests.unit.fakes import BUTTON, ScriptedRasa

HANGUL = range(0xAC00, 0xD7A4)


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa) -> Flask:
    settings = AppSettings(data_dir=tmp_path, widget=WidgetSettings(allowed_origins=["https://www.yesi.go.kr"]))
    return create_app(settings, engine=rasa)


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    """A client that sends only the headers a test gives it (no token of its own)."""
    return FlaskClient(app)


def korean_error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert any(ord(ch) in HANGUL for ch in error["message"]), error["message"]
    return str(error["message"])


def history(browser: FlaskClient, headers: dict[str, str]) -> list[str]:
    response = browser.get("/api/v1/history", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [m["text"] for m in response.get_json()["messages"]]


def test_a_new_session_is_random_and_its_token_opens_only_that_conversation(browser: FlaskClient, rasa: ScriptedRasa) -> None:
    response = browser.post("/api/v1/widget/session")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"session_id", "token", "expires_in"} and body["expires_in"] == 8 * 3600
    first, held = body["session_id"], {HEADER: body["token"]}
    second, _ = open_session(browser)
    assert first != second and len(first) >= 24, "unguessable ids"
    reply = browser.post("/api/v1/widget/chat", json={"text": "기초연금 얼마예요?"}, headers=held)
    assert reply.status_code == 200 and reply.get_json()["session_id"] == first
    assert rasa.sent == [(f"web:{first}", "기초연금 얼마예요?")]
    assert history(browser, held)[0] == "기초연금 얼마예요?"


def test_every_widget_endpoint_refuses_a_request_without_a_token(browser: FlaskClient, app: Flask, rasa: ScriptedRasa) -> None:
    session_id, held = open_session(browser)
    [answer] = browser.post("/api/v1/widget/chat", json={"text": "기초연금"}, headers=held).get_json()["messages"]
    named = {"session_id": session_id}
    refusals = [
        browser.post("/api/v1/widget/chat", json={**named, "text": "제가 이어서 쓸게요"}),
        browser.get("/api/v1/history", query_string=named),
        browser.post("/api/v1/feedback", json={**named, "message_id": answer["id"], "rating": "down"}),
        browser.post("/api/v1/widget/typing", json=named),
        browser.get("/api/v1/widget/events", query_string=named),
    ]
    for response in refusals:
        korean_error(response, 401, "session_required")
    assert len(rasa.sent) == 1, "nothing reached the conversation"
    assert app.extensions["bokji.transcripts"].feedback() == []


def test_a_token_of_one_session_cannot_name_another(browser: FlaskClient, app: Flask, rasa: ScriptedRasa) -> None:
    victim, victim_headers = open_session(browser)
    browser.post("/api/v1/widget/chat", json={"text": "제 소득은 월 150만 원이에요"}, headers=victim_headers)
    before = history(browser, victim_headers)
    [answer_id] = [t["id"] for t in app.extensions["bokji.transcripts"].turns(f"web:{victim}") if t["role"] == "bot"]
    _, intruder = open_session(browser)
    named = {"session_id": victim}
    refusals = [
        browser.post("/api/v1/widget/chat", json={**named, "text": "/cancel_form"}, headers=intruder),
        browser.get("/api/v1/history", query_string=named, headers=intruder),
        browser.post("/api/v1/feedback", json={**named, "message_id": answer_id, "rating": "down"}, headers=intruder),
        browser.post("/api/v1/widget/typing", json=named, headers=intruder),
        browser.get("/api/v1/widget/events", query_string=named, headers=intruder),
    ]
    for response in refusals:
        korean_error(response, 403, "session_mismatch")
    # The intruder's own token only ever reaches the intruder's own (empty) conversation.
    assert browser.get("/api/v1/history", headers=intruder).get_json()["messages"] == []
    rated = browser.post("/api/v1/feedback", json={"message_id": answer_id, "rating": "down"}, headers=intruder)
    assert rated.status_code == 404
    assert history(browser, victim_headers) == before and len(rasa.sent) == 1


def test_forged_garbage_and_foreign_tokens_are_refused_in_korean(browser: FlaskClient, app: Flask, tmp_path: Path) -> None:
    session_id, held = open_session(browser)
    token = held[HEADER]
    other_key = URLSafeTimedSerializer("another-deployment's-secret", salt=SALT).dumps(session_id)
    staff_salt = URLSafeTimedSerializer(str(app.secret_key), salt="cookie-session").dumps(session_id)
    for forged in ("garbage", token[:-2] + "xx", token.replace(token.split(".")[0], "InctMSI"), other_key, staff_salt, "a" * 600):
        korean_error(browser.get("/api/v1/history", headers={HEADER: forged}), 401, "invalid_session")
    restarted = FlaskClient(create_app(AppSettings(data_dir=tmp_path), engine=ScriptedRasa()))
    assert restarted.get("/api/v1/history", headers=held).status_code == 200, "a restart keeps sessions (same secret key)"


def test_an_expired_token_is_refused_and_a_new_session_can_start(
    browser: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = app.extensions["bokji.citizen_sessions"]
    issued_at = int(time.time()) - 8 * 3600 - 5
    with monkeypatch.context() as past:
        past.setattr(TimestampSigner, "get_timestamp", lambda self: issued_at)
        stale = {HEADER: sessions.issue().token}
    message = korean_error(
        browser.post("/api/v1/widget/chat", json={"text": "안녕하세요"}, headers=stale), 401, "session_expired"
    )
    assert "새 대화" in message
    korean_error(browser.get("/api/v1/history", headers=stale), 401, "session_expired")
    _, fresh = open_session(browser)
    assert browser.post("/api/v1/widget/chat", json={"text": "안녕하세요"}, headers=fresh).status_code == 200


def test_the_events_stream_takes_its_token_in_the_query(browser: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widget, "EVENTS_LIFETIME_S", 0.2)
    session_id, held = open_session(browser)
    response = browser.get("/api/v1/widget/events", query_string={"session_id": session_id, "token": held[HEADER]})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    response.close()
    korean_error(browser.get("/api/v1/history", query_string={"token": held[HEADER]}), 401, "session_required")


def test_a_quick_reply_shows_only_a_title_the_bot_offered(browser: FlaskClient, rasa: ScriptedRasa) -> None:
    _, held = open_session(browser)

    def send(text: str, label: str) -> None:
        response = browser.post("/api/v1/widget/chat", json={"text": text, "label": label}, headers=held)
        assert response.status_code == 200

    send("기초연금 얼마예요?", "기초연금 얼마예요?")  # the bot offers BUTTON with its answer
    send(BUTTON["payload"], "신청 안 할래요")
    send("/cancel_form", "네, 모든 정보 제공에 동의합니다")
    send("/cancel_handoff", "상담원 필요 없어요")
    citizen = history(browser, held)[::2]
    assert citizen == ["기초연금 얼마예요?", BUTTON["title"], "/cancel_form", "대기 취소"]


def test_the_chat_api_needs_a_configured_key(tmp_path: Path, rasa: ScriptedRasa, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"session_id": "crm-1", "text": "기초연금 얼마예요?"}
    monkeypatch.delenv("BOKJI_API_KEYS")
    off = FlaskClient(create_app(AppSettings(data_dir=tmp_path / "off"), engine=rasa))
    assert "API" in korean_error(off.post("/api/v1/chat", json=body, headers=API_AUTH), 403, "api_disabled")
    keys = f"city:{TEST_API_KEY},partner:partner-key-abcdefghijklmnop"
    client = FlaskClient(create_app(AppSettings(data_dir=tmp_path / "on", api_keys=keys), engine=rasa))  # type: ignore[arg-type]
    korean_error(client.post("/api/v1/chat", json=body), 401, "api_key_required")
    for wrong in (f"Bearer {TEST_API_KEY}x", f"Basic {TEST_API_KEY}", "Bearer ", f"Bearer {TEST_API_KEY[:-1]}"):
        korean_error(client.post("/api/v1/chat", json=body, headers={"Authorization": wrong}), 401, "invalid_api_key")
    assert rasa.sent == []
    ok = client.post("/api/v1/chat", json=body, headers=API_AUTH)
    assert ok.status_code == 200 and ok.get_json()["session_id"] == "crm-1"
    assert rasa.sent == [("api:city:crm-1", body["text"])]


def test_two_integrations_never_share_a_conversation(tmp_path: Path, rasa: ScriptedRasa) -> None:
    keys = f"city:{TEST_API_KEY},partner:partner-key-abcdefghijklmnop"
    api_app = create_app(AppSettings(data_dir=tmp_path / "api", api_keys=keys), engine=rasa)  # type: ignore[arg-type]
    client = FlaskClient(api_app)
    partner = {"Authorization": "Bearer partner-key-abcdefghijklmnop"}
    client.post("/api/v1/chat", json={"session_id": "42", "text": "상담원 연결해 주세요"}, headers=API_AUTH)
    client.post("/api/v1/chat", json={"session_id": "42", "text": "주거급여 알려주세요"}, headers=partner)
    transcripts = api_app.extensions["bokji.transcripts"]
    assert [t["text"] for t in transcripts.turns("api:city:42") if t["role"] == "citizen"] == ["상담원 연결해 주세요"]
    assert [t["text"] for t in transcripts.turns("api:partner:42") if t["role"] == "citizen"] == ["주거급여 알려주세요"]
    assert transcripts.turns("web:42") == [], "nor does an integration reach a widget conversation"


def test_a_malformed_api_key_setting_stops_the_app_without_printing_the_key(tmp_path: Path, rasa: ScriptedRasa) -> None:
    for setting in (
        "city:short",
        "no-colon-here-0123456789",
        "a b:0123456789abcdefghij",
        "x:0123456789abcdef,x:0123456789abcdeg",
    ):
        with pytest.raises(ValueError, match="BOKJI_API_KEYS") as raised:
            create_app(AppSettings(data_dir=tmp_path, api_keys=setting), engine=rasa)  # type: ignore[arg-type]
        assert "0123456789" not in str(raised.value) and "short" not in str(raised.value)


def test_new_sessions_are_limited_per_address(tmp_path: Path, rasa: ScriptedRasa) -> None:
    settings = AppSettings(data_dir=tmp_path, rate_limit=RateLimitSettings(sessions="3/hour"))
    client = FlaskClient(create_app(settings, engine=rasa))
    for _ in range(3):
        assert client.post("/api/v1/widget/session").status_code == 201
    refused = client.post("/api/v1/widget/session")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
    message = refused.get_json()["error"]["message"]
    assert "새 대화" in message and "129" in message
    other = client.post("/api/v1/widget/session", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201, "another address is not affected"


def test_a_city_page_may_send_the_session_header(browser: FlaskClient) -> None:
    origin = {
        "Origin": "https://www.yesi.go.kr",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": HEADER,
    }
    preflight = browser.options("/api/v1/widget/session", headers=origin)
    assert preflight.status_code == 200 and HEADER in preflight.headers["Access-Control-Allow-Headers"]
    issued = browser.post("/api/v1/widget/session", headers={"Origin": "https://www.yesi.go.kr"})
    assert issued.status_code == 201 and issued.headers["Access-Control-Allow-Origin"] == "https://www.yesi.go.kr"
