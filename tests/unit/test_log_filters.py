"""Rasa's auth token travels in the tracker read's URL; httpx's request log line must not carry it."""

from __future__ import annotations

import logging

import httpx
import pytest

from channels.assist.client import AssistClient
from channels.log_filters import redact, redact_request_logs

TOKEN = "rasa-secret-4f9a2c"


def test_the_tracker_read_sends_the_token_and_the_log_line_hides_it(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"sender_id": "web:a", "slots": {}, "events": []})

    redact_request_logs()
    client = AssistClient("http://actions", "http://rasa", transport=httpx.MockTransport(rasa), rasa_token=TOKEN)
    with caplog.at_level(logging.INFO, logger="httpx"):
        assert client.tracker("web:a")["sender_id"] == "web:a"
    assert seen[0].url.params["token"] == TOKEN
    assert "HTTP Request" in caplog.text and "token=***" in caplog.text
    assert TOKEN not in caplog.text


def test_redact_masks_every_token_value_and_leaves_the_rest() -> None:
    line = 'GET http://rasa/conversations/x/tracker?include_events=all&token=abc-DEF_1 "HTTP/1.1 200 OK"'
    assert redact(line) == 'GET http://rasa/conversations/x/tracker?include_events=all&token=*** "HTTP/1.1 200 OK"'
    assert redact("no secrets here") == "no secrets here"
