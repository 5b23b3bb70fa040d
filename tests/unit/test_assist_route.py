"""``GET /console/api/chats/<id>/assist``: the case card and suggested replies an agent sees on opening a chat.

The action server and Rasa are replaced by an ``httpx.MockTransport`` behind the real :class:`AssistClient`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.assist import AssistClient
from channels.assist.blueprint import NO_SUGGESTIONS, NO_TRACKER
from channels.assist.case_card import FROM_SLOT
from tests.unit.fakes import ScriptedRasa
from tests.unit.staff_support import make_staff, sign_in

SENDER = "web:assist-1"
FAQ = {"title": "기초연금 안내", "url": "https://basicpension.mohw.go.kr", "updated_at": "2026-01-09"}
SUGGESTION = {"text": "기초연금은 주소지 주민센터나 복지로에서 신청할 수 있어요.", "sources": [FAQ], "kind": "faq", "score": 0.97}


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


class Services:
    """The action server's /assist/suggestions and Rasa's tracker API, in memory; either can be switched off."""

    def __init__(self) -> None:
        self.actions_down = False
        self.rasa_down = False
        self.asked: list[dict[str, Any]] = []
        self.tracker_paths: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "actions":
            if self.actions_down:
                raise httpx.ConnectError("connection refused", request=request)
            self.asked.append(json.loads(request.content))
            return httpx.Response(200, json={"suggestions": [SUGGESTION]})
        if self.rasa_down:
            raise httpx.ReadTimeout("timed out", request=request)
        self.tracker_paths.append(request.url.raw_path.decode())
        slots = {"program": "기초연금", "age": 70, "household_size": None}
        return httpx.Response(200, json={"sender_id": SENDER, "slots": slots, "events": []})


@pytest.fixture
def services(app: Flask) -> Services:
    fake = Services()
    app.extensions["bokji.assist"] = AssistClient("http://actions", "http://rasa", transport=httpx.MockTransport(fake.handle))
    return fake


@pytest.fixture
def chat(app: Flask) -> int:
    """A waiting chat whose transcript has one question the bot could not answer."""
    transcripts = app.extensions["bokji.transcripts"]
    transcripts.add_turn(SENDER, "citizen", "기초연금 어디서 신청해요? 제 번호는 010-****-****")
    transcripts.add_turn(SENDER, "bot", "확인할 수 있는 안내가 없어요.", {"mode": "none", "sources": []})
    transcripts.add_turn(SENDER, "citizen", "/request_human", {"label": "상담원 연결"})
    view, _ = app.extensions["bokji.handoffs"].request(SENDER, "requested")
    return int(view.id)


@pytest.fixture
def agent(app: Flask, client: FlaskClient) -> FlaskClient:
    make_staff(app, "agent1", "agent", name="김상담")
    sign_in(client, "agent1")
    return client


def test_an_agent_gets_the_card_the_question_and_suggestions_with_sources(
    agent: FlaskClient, chat: int, services: Services
) -> None:
    response = agent.get(f"/console/api/chats/{chat}/assist")
    assert response.status_code == 200
    body = response.get_json()
    assert body["question"] == "기초연금 어디서 신청해요? 제 번호는 010-****-****"
    assert services.asked == [{"text": body["question"], "limit": 3}]  # the masked text, as the transcript keeps it
    assert services.tracker_paths == ["/conversations/web%3Aassist-1/tracker"]
    assert body["suggestions"] == [SUGGESTION] and body["notice"] is None
    facts = [(f["label"], f["value"], f["source"]) for f in body["card"]["facts"]]
    assert facts == [("제도", "기초연금", FROM_SLOT), ("나이", "만 70세", FROM_SLOT)]
    assert body["card"]["verdict"] is None
    assert [a["failed_because"] for a in body["card"]["failed_answers"]] == [["답을 찾지 못함"]]


def test_when_the_action_server_is_down_the_card_still_comes_with_a_korean_notice(
    agent: FlaskClient, chat: int, services: Services
) -> None:
    services.actions_down = True
    response = agent.get(f"/console/api/chats/{chat}/assist")
    assert response.status_code == 200
    body = response.get_json()
    assert body["suggestions"] == [] and body["notice"] == NO_SUGGESTIONS
    assert "추천 답변을 불러올 수 없어요" in body["notice"]
    assert [f["value"] for f in body["card"]["facts"]] == ["기초연금", "만 70세"]
    assert len(body["card"]["failed_answers"]) == 1


def test_when_rasa_is_down_the_card_shows_what_the_transcript_knows_and_says_so(
    agent: FlaskClient, chat: int, services: Services
) -> None:
    services.rasa_down = True
    body = agent.get(f"/console/api/chats/{chat}/assist").get_json()
    assert body["card"]["facts"] == [] and len(body["card"]["answers"]) == 1
    assert body["suggestions"] == [SUGGESTION] and body["notice"] == NO_TRACKER


def test_both_down_names_both(agent: FlaskClient, chat: int, services: Services) -> None:
    services.actions_down = services.rasa_down = True
    body = agent.get(f"/console/api/chats/{chat}/assist").get_json()
    assert body["notice"] == f"{NO_SUGGESTIONS} {NO_TRACKER}"


def test_a_chat_without_a_question_asks_the_action_server_nothing(agent: FlaskClient, app: Flask, services: Services) -> None:
    view, _ = app.extensions["bokji.handoffs"].request("web:quiet", "requested")
    body = agent.get(f"/console/api/chats/{view.id}/assist").get_json()
    assert body["question"] is None and body["suggestions"] == [] and services.asked == []
    assert body["card"]["answers"] == [] and body["card"]["verdict"] is None


def test_signed_out_gets_401_and_an_editor_403(app: Flask, client: FlaskClient, chat: int, services: Services) -> None:
    response = client.get(f"/console/api/chats/{chat}/assist")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"
    make_staff(app, "editor1", "editor")
    sign_in(client, "editor1")
    response = client.get(f"/console/api/chats/{chat}/assist")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert services.asked == [] and services.tracker_paths == []


def test_an_unknown_chat_is_404(agent: FlaskClient, services: Services) -> None:
    response = agent.get("/console/api/chats/999/assist")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "그런 상담을 찾을 수 없어요."
    assert services.asked == []


def test_an_oversized_request_is_413(agent: FlaskClient, chat: int, services: Services) -> None:
    response = agent.get(f"/console/api/chats/{chat}/assist", data=b"x" * (64 * 1024))
    assert response.status_code == 413 and services.asked == []
