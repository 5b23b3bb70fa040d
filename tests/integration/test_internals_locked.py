"""Rasa's HTTP API and the action server answer nobody without the stack's secrets (`bokji run` makes them)."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.integration.conftest import RunningStack

pytestmark = pytest.mark.integration

ACTION_CALL = {
    "next_action": "action_answer_welfare",
    "tracker": {"sender_id": "web:probe", "slots": {}, "latest_message": {"text": "기초연금"}, "events": []},
    "domain": {},
}


def test_rasa_refuses_to_read_or_rewrite_a_conversation_without_its_token(stack: RunningStack) -> None:
    for token in (None, "", "guess"):
        params = {} if token is None else {"token": token}
        tracker = httpx.get(f"{stack.rasa}/conversations/x/tracker", params=params, timeout=10)
        assert tracker.status_code in (401, 403), tracker.text
        events = httpx.post(f"{stack.rasa}/conversations/x/tracker/events", params=params, json=[], timeout=10)
        assert events.status_code in (401, 403)
        model = httpx.request("DELETE", f"{stack.rasa}/model", params=params, timeout=10)
        assert model.status_code in (401, 403)
    assert httpx.get(f"{stack.rasa}/", timeout=10).status_code == 200  # the server itself is up


def test_the_action_server_refuses_every_call_without_the_secret(stack: RunningStack) -> None:
    for headers in ({}, {"X-Bokji-Actions-Token": ""}, {"X-Bokji-Actions-Token": "guess"}):
        webhook = httpx.post(f"{stack.actions}/webhook", json=ACTION_CALL, headers=headers, timeout=10)
        assert webhook.status_code in (401, 403), webhook.text
        assert "Traceback" not in webhook.text
        suggestions = httpx.post(f"{stack.actions}/assist/suggestions", json={"text": "기초연금"}, headers=headers, timeout=10)
        assert suggestions.status_code in (401, 403)
    assert httpx.post(f"{stack.actions}/webhook", content=b"{", timeout=10).status_code == 401  # the secret comes first
    assert httpx.get(f"{stack.actions}/health", timeout=10).status_code == 200
    with_secret = httpx.post(
        f"{stack.actions}/assist/suggestions",
        json={"text": "기초연금"},
        headers={"X-Bokji-Actions-Token": stack.actions_token},
        timeout=30,
    )
    assert with_secret.status_code == 200 and "suggestions" in with_secret.json()


def test_rasa_listens_on_loopback_with_an_auth_token_that_opens_its_api(stack: RunningStack) -> None:
    # Rasa reads its token only from the command line; the web app and the actions get theirs from the environment.
    listing = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True).stdout
    port = stack.rasa.rsplit(":", 1)[1]
    rasa = next(line.split() for line in listing.splitlines() if "rasa run" in line and f"--port {port}" in line)
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    token = next(arg.removeprefix("--auth-token=") for arg in rasa if arg.startswith("--auth-token="))
    assert token == stack.rasa_token  # an operator's BOKJI_RASA_TOKEN is used as given (else bokji run makes one)
    tracker = httpx.get(f"{stack.rasa}/conversations/x/tracker", params={"token": token}, timeout=10)
    assert tracker.status_code == 200 and tracker.json()["sender_id"] == "x"
