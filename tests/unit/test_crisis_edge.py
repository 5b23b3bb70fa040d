"""The crisis check at the edge: every channel, before Rasa, whatever Rasa would have said (a stand-in Rasa)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from channels.conversation import CRISIS_NOTICE
from tests.kakao_support import SlowRasa, ask, labels, list_card, make_app, skill_request, texts
from tests.unit.fakes import ScriptedRasa

# What Rasa would answer inside the eligibility form: the form's next question.
FORM_QUESTION = [{"text": "소득은 한 달에 얼마 정도인가요?"}]


@pytest.fixture
def rasa() -> ScriptedRasa:
    rasa = ScriptedRasa()
    rasa.reply = FORM_QUESTION
    return rasa


def wait_for(condition: Any, timeout_s: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_crisis_is_answered_before_rasa_and_rasa_only_hears_the_crisis_intent(app: Flask, rasa: ScriptedRasa) -> None:
    response = app.test_client().post("/api/v1/chat", json={"session_id": "c1", "text": "남편이 때려요 무서워요"})
    assert response.status_code == 200
    message, notice = response.get_json()["messages"]  # the crisis reply, then what happens with the handoff
    # In office hours the notice gives the place in line, outside them when staff come back: both say it waits.
    assert "대기" in notice["text"] and "129" in notice["text"] + message["text"]
    assert notice["buttons"] == []  # urgent: no way out of the queue is offered
    assert message["text"].index("112") < message["text"].index("1366") < message["text"].index("129")
    assert "소득" not in message["text"]
    assert [s["title"] for s in message["sources"]][:2] == ["경찰청 112 신고", load_title("women_emergency")]
    [queued] = app.extensions["bokji.handoffs"].queue()
    assert (queued.sender_id, queued.reason, queued.urgent) == ("api:test:c1", "crisis", True)
    assert wait_for(lambda: rasa.sent == [("api:test:c1", CRISIS_NOTICE)]), rasa.sent


def load_title(key: str) -> str:
    from knowledge.ingestion.seed_files import load_helplines

    return load_helplines()[key].source.title


def test_the_transcript_keeps_the_crisis_turn_and_its_kind(app: Flask) -> None:
    app.test_client().post("/api/v1/chat", json={"session_id": "c2", "text": "요양원에서 할머니를 때린대요"})
    citizen, bot, notice = app.extensions["bokji.transcripts"].turns("api:test:c2")
    assert notice["meta"]["handoff_state"] == "waiting"
    assert citizen["text"] == "요양원에서 할머니를 때린대요"
    assert bot["text"].startswith("말씀해 주셔서 고마워요") and "1577-1389" in bot["text"]
    assert bot["meta"]["crisis"] == "elder_abuse" and bot["meta"]["handoff"]["urgent"] is True


def test_the_widget_gets_the_crisis_reply_with_its_handoff_flag(app: Flask) -> None:
    body = {"session_id": "c3", "text": "아빠가 맨날 때려서 집에 가기 무서워요", "stream": False}
    message, _ = app.test_client().post("/api/v1/widget/chat", json=body).get_json()["messages"]
    assert message["text"].index("112") < message["text"].index("129") and message["handoff"] is True


def test_a_crisis_while_rasa_is_down_is_answered_in_full(app: Flask, rasa: ScriptedRasa) -> None:
    rasa.down = True
    response = app.test_client().post("/api/v1/chat", json={"session_id": "c4", "text": "숨을 못 쉬어요"})
    assert response.status_code == 200
    assert response.get_json()["messages"][0]["text"].startswith("지금 바로 응급 신고 119")
    assert app.extensions["bokji.handoffs"].queue()[0].urgent is True


def test_an_information_question_goes_to_rasa_without_a_handoff(app: Flask, rasa: ScriptedRasa) -> None:
    app.test_client().post("/api/v1/chat", json={"session_id": "c5", "text": "폭행 신고 방법 알려줘"})
    assert rasa.sent == [("api:test:c5", "폭행 신고 방법 알려줘")]
    assert app.extensions["bokji.handoffs"].queue() == []


def test_kakao_gets_the_crisis_lines_first_and_the_operator_button(tmp_path: Path) -> None:
    rasa = SlowRasa()
    app = make_app(tmp_path, rasa)
    try:
        status, body, _ = ask(app.test_client(), skill_request("죽고싶어요 다 끝내고 싶어", user_id="kc1"))
        assert status == 200
        text = texts(body)
        assert text.index("109") < text.index("129") < text.index("119")
        assert {"action": "operator", "label": "상담직원 연결"} in list_card(body)["buttons"]
        assert "답변 보기" not in labels(body)
        assert app.extensions["bokji.handoffs"].queue()[0].sender_id.startswith("kakao:")
        assert wait_for(lambda: [t for _, t in rasa.sent] == [CRISIS_NOTICE]), rasa.sent
    finally:
        app.extensions["bokji.kakao"].close()
