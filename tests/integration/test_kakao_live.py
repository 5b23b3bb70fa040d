"""The KakaoTalk skill endpoint in front of the real Rasa server and action server (the `stack` fixture).

The web app under test is built here (with a Kakao token and a local callback receiver allowed) and talks
to the stack's Rasa over HTTP, so Kakao turns go through the same Rasa the citizen-facing web app uses.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from channels.app import create_app
from channels.settings import AppSettings, KakaoSettings
from tests.integration.conftest import RunningStack, reply_to
from tests.kakao_support import Receiver, assert_skill_response, sender, skill_request

pytestmark = pytest.mark.integration

TOKEN = "live-test-secret"
KAKAO_LIMIT_S = 5.0


@pytest.fixture
def kakao_app(stack: RunningStack, tmp_path: Path) -> Iterator[Flask]:
    settings = AppSettings(
        data_dir=tmp_path,
        rasa_url=stack.rasa,
        actions_url=stack.actions,
        actions_token=SecretStr(stack.actions_token),
        rasa_token=SecretStr(stack.rasa_token),
        kakao=KakaoSettings(token=SecretStr(TOKEN), callback_hosts=["127.0.0.1"]),
    )
    app = create_app(settings)
    yield app
    app.extensions["bokji.kakao"].close()


def send(client: FlaskClient, receiver: Receiver, body: dict[str, Any]) -> dict[str, Any]:
    """One Kakao turn within 5 s; a callback answer is collected from the receiver."""
    started = time.monotonic()
    response = client.post("/kakao/skill", data=json.dumps(body), headers={"X-Bokji-Kakao-Token": TOKEN},
                           content_type="application/json")  # fmt: skip
    assert time.monotonic() - started < KAKAO_LIMIT_S
    reply = assert_skill_response(response.get_json())
    if reply.get("useCallback"):
        _, reply = receiver.next(timeout=60)
        assert_skill_response(reply)
    return reply


def texts(reply: dict[str, Any]) -> str:
    return "\n".join(o["simpleText"]["text"] for o in reply["template"]["outputs"] if "simpleText" in o)


def cards(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [o["listCard"] for o in reply["template"]["outputs"] if "listCard" in o]


def test_question_is_answered_with_a_source_card_and_forms_carry_over(
    kakao_app: Flask, receiver: Receiver, stack: RunningStack
) -> None:
    client = kakao_app.test_client()
    reply = send(client, receiver, skill_request("기초연금 얼마 받을 수 있어요?", user_id="live1", callback_url=receiver.url))
    for _ in range(6):  # the bot may ask back (a short eligibility form); the turns must carry over
        if "349,700원" in texts(reply) and cards(reply):
            break
        quick = reply["template"].get("quickReplies", [])
        if quick:
            extra = quick[0].get("extra", {})
            reply = send(client, receiver, skill_request(quick[0]["messageText"], user_id="live1", client_extra=extra,
                                                         callback_url=receiver.url))  # fmt: skip
        else:
            reply = send(client, receiver, skill_request(reply_to(texts(reply)), user_id="live1", callback_url=receiver.url))
    assert "349,700원" in texts(reply)
    links = [item.get("link", {}).get("web", "") for card in cards(reply) for item in card["items"]]
    assert any("basicpension" in link for link in links)
    db = sqlite3.connect(kakao_app.extensions["bokji.settings"].data_dir / "conversations.sqlite3")
    assert db.execute("SELECT count(DISTINCT sender_id) FROM turns").fetchone() == (1,)
    assert db.execute("SELECT DISTINCT sender_id FROM turns").fetchone() == (sender(kakao_app, "live1"),)


def test_asking_for_a_person_offers_the_operator_and_queues_the_chat(kakao_app: Flask, receiver: Receiver) -> None:
    reply = send(kakao_app.test_client(), receiver, skill_request("상담원이랑 직접 얘기하고 싶어요", user_id="live2"))
    assert "상담원" in texts(reply)
    assert {"action": "operator", "label": "상담직원 연결"} in [b for card in cards(reply) for b in card.get("buttons", [])]
    assert [h.sender_id for h in kakao_app.extensions["bokji.handoffs"].queue()] == [sender(kakao_app, "live2")]


def test_crisis_message_gets_its_lines_first_the_operator_and_an_urgent_handoff(kakao_app: Flask, receiver: Receiver) -> None:
    reply = send(kakao_app.test_client(), receiver, skill_request("아빠가 맨날 때려서 집에 가기 무서워요", user_id="live3"))
    first = texts(reply)
    assert first.index("112") < first.index("129")
    assert {"action": "operator", "label": "상담직원 연결"} in [b for card in cards(reply) for b in card.get("buttons", [])]
    handoffs = kakao_app.extensions["bokji.handoffs"].queue()
    assert [(h.sender_id, h.reason, h.urgent) for h in handoffs] == [(sender(kakao_app, "live3"), "crisis", True)]


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"userRequest": {"utterance": "x"}}'])
def test_broken_requests_are_answered_in_format(kakao_app: Flask, body: bytes) -> None:
    response = kakao_app.test_client().post(
        "/kakao/skill", data=body, headers={"X-Bokji-Kakao-Token": TOKEN}, content_type="application/json"
    )
    assert response.status_code == 200
    assert_skill_response(response.get_json())
