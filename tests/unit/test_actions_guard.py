"""The action server's gate: only callers with the shared secret run actions; bad bodies get a 400 without a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from typing import Any

import httpx
import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sanic import Sanic

from actions.guard import TOKEN_HEADER, add_guard
from tests.unit.test_assist_suggestions import _lifespan

SECRET = "s3cret-for-tests"
CITIZEN_TEXT = "900101-1234567 제 주민번호예요"


class ActionEcho(Action):
    def name(self) -> str:
        return "action_echo"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="ok")
        return []


class ActionBroken(Action):
    def name(self) -> str:
        return "action_broken"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        raise RuntimeError(f"failed on {tracker.latest_message.get('text')}")


def call(action: str = "action_echo", **tracker: Any) -> dict[str, Any]:
    return {
        "next_action": action,
        "sender_id": "web:a",
        "tracker": {"sender_id": "web:a", "slots": {}, "latest_message": {"text": CITIZEN_TEXT}, "events": [], **tracker},
        "domain": {},
        "version": "3.6.21",
    }


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The rasa-sdk app with our gate, called in process through ASGI."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    executor = ActionExecutor()
    executor.register_action(ActionEcho())
    executor.register_action(ActionBroken())
    app = create_app(executor)
    add_guard(app, SECRET)

    async def exchange(method: str, path: str, content: bytes | None, headers: dict[str, str]) -> httpx.Response:
        startup = await _lifespan(app)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://actions") as client:
                return await client.request(method, path, content=content, headers=headers)
        finally:
            startup.cancel()

    def request(
        method: str, path: str, body: Any = None, *, raw: bytes | None = None, token: str | None = SECRET, **headers: str
    ) -> httpx.Response:
        content = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json", **headers}
        if token is not None:
            sent[TOKEN_HEADER] = token
        return asyncio.run(exchange(method, path, content, sent))

    return request


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/webhook"), ("GET", "/actions"), ("GET", "/streams/x"), ("POST", "/assist/suggestions")]
)
def test_every_route_but_health_refuses_a_caller_without_the_secret(server: Any, method: str, path: str) -> None:
    for token in (None, "", "wrong", SECRET[:-1]):
        response = server(method, path, call() if method == "POST" else None, token=token)
        assert response.status_code == 401, (path, token)
        assert response.json()["error"] == "unauthorized"


def test_health_stays_open_and_the_secret_runs_actions(server: Any) -> None:
    assert server("GET", "/health", token=None).status_code == 200
    response = server("POST", "/webhook", call())
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "ok"
    # Rasa's own `token:` option sends it as a query parameter.
    assert server("POST", f"/webhook?token={SECRET}", call(), token=None).status_code == 200


def test_a_deflated_action_call_still_runs(server: Any) -> None:
    response = server("POST", "/webhook", raw=zlib.compress(json.dumps(call()).encode()), **{"Content-Encoding": "deflate"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"next_action": "action_echo"}).encode(),
        json.dumps({"next_action": 5, "tracker": {}}).encode(),
        json.dumps(call(slots=[1])).encode(),
        json.dumps(call(events="x")).encode(),
        json.dumps({**call(), "domain": []}).encode(),
        json.dumps({**call(), "tracker": {"slots": {}}}).encode(),
    ],
)
def test_a_body_that_is_not_an_action_call_is_a_400_that_echoes_nothing(server: Any, raw: bytes) -> None:
    response = server("POST", "/webhook", raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_action_call"
    assert "request_body" not in response.json()


def test_bad_deflate_data_is_a_400(server: Any) -> None:
    response = server("POST", "/webhook", raw=b"\x00garbage", **{"Content-Encoding": "deflate"})
    assert response.status_code == 400


def test_an_unknown_action_and_a_wrong_method_are_4xx_json(server: Any) -> None:
    assert server("POST", "/webhook", call("action_nope")).status_code == 404
    response = server("GET", "/webhook")
    assert response.status_code == 405 and response.json()["error"] == "bad_request"


def test_a_failing_action_is_a_500_that_neither_quotes_nor_logs_the_conversation(
    server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = server("POST", "/webhook", call("action_broken"))
    assert response.status_code == 500
    assert CITIZEN_TEXT not in response.text and "RuntimeError" not in response.text
    assert "RuntimeError" in caplog.text and CITIZEN_TEXT not in caplog.text
