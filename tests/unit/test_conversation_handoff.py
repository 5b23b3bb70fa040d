"""The shared conversation flow around a handoff: when a person is called, and the bot's silence meanwhile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.conversation import same_question
from channels.handoff import HandoffService
from channels.store.models import StaffSession, utcnow
from tests.handoff_support import staff
from tests.unit.fakes import ScriptedRasa

NOT_FOUND = [
    {
        "text": "죄송해요. 그 내용은 안내 자료에서 찾지 못했어요.",
        "buttons": [{"title": "상담원 연결", "payload": "/request_human"}],
    },
    {"custom": {"sources": [], "mode": "none"}},
]


class AlwaysOpen:
    """Office hours that never close (the notice must not depend on when the test runs)."""

    def is_open(self, at: datetime) -> bool:
        return True


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def say(client: FlaskClient, session: str, text: str) -> list[dict[str, Any]]:
    response = client.post("/api/v1/widget/chat", json={"session_id": session, "text": text})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["messages"]


def handoffs(app: Flask) -> HandoffService:
    return app.extensions["bokji.handoffs"]


def test_two_answers_in_a_row_that_found_nothing_call_a_person(app: Flask, client: FlaskClient, rasa: ScriptedRasa) -> None:
    rasa.reply = NOT_FOUND
    assert len(say(client, "u1", "화성 이주 지원금 있나요")) == 1
    answer, notice = say(client, "u1", "달 여행 보조금은요")
    assert "찾지 못했어요" in answer["text"] and notice["text"].startswith("제가 찾을 수 있는 답이 없어서 상담원에게")
    [queued] = handoffs(app).queue()
    assert (queued.sender_id, queued.reason, queued.urgent) == ("web:u1", "unanswered", False)


def test_a_thumbs_down_then_the_same_question_goes_to_a_person_not_the_same_answer(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa
) -> None:
    [answer] = say(client, "u2", "기초연금 얼마 받아요?")
    client.post("/api/v1/feedback", json={"session_id": "u2", "message_id": answer["id"], "rating": "down"})
    asked_before = len(rasa.sent)
    [notice] = say(client, "u2", "기초연금 얼마 받아요")
    assert len(rasa.sent) == asked_before
    assert notice["text"].startswith("앞의 답변이 도움이 되지 않으셨군요")
    assert handoffs(app).queue()[0].reason == "disliked"


def test_a_thumbs_down_then_a_different_question_is_answered_by_the_bot(client: FlaskClient, rasa: ScriptedRasa) -> None:
    [answer] = say(client, "u3", "기초연금 얼마 받아요?")
    client.post("/api/v1/feedback", json={"session_id": "u3", "message_id": answer["id"], "rating": "down"})
    say(client, "u3", "주거급여 신청은 어디서 해요?")
    assert rasa.sent[-1] == ("web:u3", "주거급여 신청은 어디서 해요?")


def test_while_a_person_has_the_chat_the_bot_stays_silent_and_returns_after(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa
) -> None:
    service = handoffs(app)
    kim = staff(service, "kim", name="김상담")
    view, _ = service.request("web:u4", "requested")
    [waiting] = say(client, "u4", "아직이에요?")
    assert "기다리고 있어요" in waiting["text"] and rasa.sent == []
    service.claim(view.id, kim)
    assert say(client, "u4", "기초연금 얼마예요?") == []
    assert rasa.sent == []
    history = client.get("/api/v1/history?session_id=u4").get_json()["messages"]
    assert history[-1]["text"] == "기초연금 얼마예요?"  # recorded for the agent, unanswered by the bot
    service.return_to_bot(view.id, kim)
    [answer] = say(client, "u4", "기초연금 얼마예요?")
    assert rasa.sent == [("web:u4", "기초연금 얼마예요?")] and "349,700" in answer["text"]


def test_a_crisis_while_a_person_has_the_chat_still_gets_the_helplines_first(app: Flask, client: FlaskClient) -> None:
    service = handoffs(app)
    view, _ = service.request("web:u5", "requested")
    service.claim(view.id, staff(service, "kim"))
    [message] = say(client, "u5", "너무 힘들어서 죽고 싶어요")
    assert "109" in message["text"]
    assert service.get(view.id).urgent and service.get(view.id).state == "with_agent"


def test_cancel_while_waiting_goes_back_to_the_bot(app: Flask, client: FlaskClient, rasa: ScriptedRasa) -> None:
    handoffs(app).request("web:u6", "requested")
    [cancelled] = say(client, "u6", "/cancel_handoff")
    assert cancelled["text"].startswith("상담원 연결 요청을 취소했어요")
    assert handoffs(app).active("web:u6") is None
    say(client, "u6", "기초연금 얼마예요?")
    assert rasa.sent == [("web:u6", "기초연금 얼마예요?")]


def test_the_queue_notice_gives_the_place_in_line_when_an_agent_is_on_duty(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = handoffs(app)
    kim = staff(service, "kim")
    with service.database.session() as session:
        session.add(StaffSession(token_hash="t" * 64, user_id=kim.id, last_seen_at=utcnow(), expires_at=utcnow()))
    monkeypatch.setattr(service, "hours", AlwaysOpen())
    service.request("web:someone-else", "requested")
    rasa.reply = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    _, notice = say(client, "u7", "/request_human")
    assert "지금 대기 2번째예요" in notice["text"] and "129" not in notice["text"]


def test_same_question_ignores_spacing_and_punctuation_but_not_a_new_topic() -> None:
    assert same_question("기초연금 얼마 받아요?", "기초연금얼마받아요")
    assert same_question("기초연금 얼마 받을 수 있어요", "기초연금 얼마 받을수 있나요")
    assert not same_question("기초연금 얼마 받아요?", "주거급여 신청은 어디서 해요?")


def test_off_duty_a_kakao_citizen_is_told_how_the_answer_will_reach_them(app: Flask, rasa: ScriptedRasa) -> None:
    rasa.reply = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    reply = app.extensions["bokji.conversation"].handle("kakao:user-1", "/request_human")
    notice = reply.messages[-1].text
    assert "상담 시간" in notice and "다음에 메시지를 보내실 때" in notice and "129" in notice


def test_while_an_urgent_chat_waits_the_citizen_is_pointed_to_the_phone_not_out_of_the_queue(
    app: Flask, client: FlaskClient
) -> None:
    handoffs(app).request("web:u8", "crisis", urgent=True)
    [waiting] = say(client, "u8", "언제 와요?")
    assert "129" in waiting["text"] and waiting["buttons"] == []
    assert handoffs(app).active("web:u8") is not None
