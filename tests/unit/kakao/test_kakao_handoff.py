"""A person takes over a KakaoTalk chat: what the citizen reads, and how staff replies reach them.

Kakao cannot be pushed to: staff replies go out with the citizen's next message (once, across restarts),
through a callbackUrl still open, or through the optional Event API (a local server stands in for Kakao).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr, ValidationError

from channels.handoff import Actor, HandoffService
from channels.kakao_staff import FORWARDED, FORWARDING, NO_REPLY_YET
from channels.settings import KakaoSettings
from tests.handoff_support import staff
from tests.kakao_support import (
    Receiver,
    SlowRasa,
    ask,
    assert_skill_response,
    labels,
    make_app,
    sender,
    skill_request,
    texts,
)

USER = "8a1d6f0c2b7e4d9f"
ASK_FOR_A_PERSON = "사람이랑 얘기할래요"
OPERATOR = {"action": "operator", "label": "상담직원 연결"}
# Answers here come from the database, not a slow model: a generous budget keeps a loaded test box from
# turning them into "답변 보기" holds (the 5-second rule has its own tests).
BUDGET = 2.0


@pytest.fixture
def app(tmp_path: Path, rasa: SlowRasa) -> Iterator[Flask]:
    app = make_app(tmp_path, rasa, answer_budget_s=BUDGET)
    yield app
    app.extensions["bokji.kakao"].close()


def handoffs(app: Flask) -> HandoffService:
    return app.extensions["bokji.handoffs"]


def request_a_person(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.replies[ASK_FOR_A_PERSON] = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    ask(client, skill_request(ASK_FOR_A_PERSON))


def take_over(app: Flask, client: FlaskClient, rasa: SlowRasa) -> tuple[Actor, int]:
    """The citizen asks for a person and an agent claims the chat."""
    request_a_person(client, rasa)
    agent = staff(handoffs(app), "kim", name="김상담")
    [view] = handoffs(app).queue()
    handoffs(app).claim(view.id, agent)
    return agent, view.id


def operator_offered(body: dict) -> bool:
    return any(OPERATOR in o["listCard"].get("buttons", []) for o in body["template"]["outputs"] if "listCard" in o)


# ---- waiting and with an agent: honest, never silent ------------------------------------------------------
def test_while_waiting_each_message_is_answered_honestly_with_cancel_and_the_operator(
    client: FlaskClient, rasa: SlowRasa
) -> None:
    request_a_person(client, rasa)
    _, body, _ = ask(client, skill_request("아직인가요?"))
    assert "기다리고 있어요" in texts(body)
    assert [r["extra"] for r in body["template"]["quickReplies"]] == [{"payload": "/cancel_handoff"}]
    assert operator_offered(body)
    assert "아직인가요?" not in [text for _, text in rasa.sent]


def test_with_an_agent_the_bot_is_silent_but_kakao_gets_an_honest_reply(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    take_over(app, client, rasa)
    _, body, _ = ask(client, skill_request("서류는 뭐가 필요해요?"))
    assert texts(body).startswith("상담원이 연결되었어요"), "the staff notice comes first"
    assert texts(body).endswith(FORWARDED) and operator_offered(body)
    _, again, _ = ask(client, skill_request("혹시 보셨나요?"))
    assert texts(again) == FORWARDED, "the joined notice is not repeated"
    assert [text for _, text in rasa.sent] == [ASK_FOR_A_PERSON], "no bot answer while a person has the chat"


def test_operator_button_off_means_no_operator_anywhere_in_a_handoff(tmp_path: Path, rasa: SlowRasa) -> None:
    app = make_app(tmp_path, rasa, operator_button=False, answer_budget_s=BUDGET)
    client = app.test_client()
    take_over(app, client, rasa)
    _, body, _ = ask(client, skill_request("서류는 뭐가 필요해요?"))
    assert FORWARDED in texts(body) and "operator" not in json.dumps(body)
    app.extensions["bokji.kakao"].close()


# ---- next-message delivery --------------------------------------------------------------------------------
def test_an_agent_reply_arrives_with_the_next_message_exactly_once(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    agent, chat = take_over(app, client, rasa)
    ask(client, skill_request("서류는 뭐가 필요해요?"))  # takes the joined notice
    handoffs(app).reply(chat, agent, "신분증과 통장 사본을 가지고 주민센터로 오시면 돼요.")
    _, body, _ = ask(client, skill_request("네"))
    shown = texts(body)
    assert shown.index("상담원: 신분증과 통장 사본") < shown.index(FORWARDED)
    _, again, _ = ask(client, skill_request("감사합니다"))
    assert "신분증" not in texts(again)
    # The transcript (what the console shows) keeps the agent's words once, as the agent's.
    agent_turns = [t for t in handoffs(app).transcripts.turns(sender(app, USER)) if t["role"] == "agent"]
    assert [t["text"] for t in agent_turns] == ["신분증과 통장 사본을 가지고 주민센터로 오시면 돼요."]


def test_after_a_restart_an_undelivered_reply_is_delivered_once_and_a_delivered_one_never_again(
    tmp_path: Path, rasa: SlowRasa
) -> None:
    first = make_app(tmp_path, rasa, answer_budget_s=BUDGET)
    agent, chat = take_over(first, first.test_client(), rasa)
    handoffs(first).reply(chat, agent, "첫 번째 답이에요.")
    first.extensions["bokji.kakao"].close()

    second = make_app(tmp_path, rasa, answer_budget_s=BUDGET)  # the web app restarted on the same database
    _, body, _ = ask(second.test_client(), skill_request("여보세요"))
    assert "상담원: 첫 번째 답이에요." in texts(body)
    handoffs(second).reply(chat, agent, "두 번째 답이에요.")
    second.extensions["bokji.kakao"].close()

    third = make_app(tmp_path, rasa, answer_budget_s=BUDGET)
    _, body, _ = ask(third.test_client(), skill_request("또 있나요?"))
    assert "두 번째 답이에요." in texts(body) and "첫 번째" not in texts(body)
    _, body, _ = ask(third.test_client(), skill_request("이제 없죠?"))
    assert "답이에요" not in texts(body)
    third.extensions["bokji.kakao"].close()


def test_more_staff_messages_than_kakao_shows_at_once_come_in_order_on_the_next_requests(
    app: Flask, client: FlaskClient, rasa: SlowRasa
) -> None:
    agent, chat = take_over(app, client, rasa)
    replies = [f"{i}번째 안내예요. " + "필요한 서류와 절차를 차례대로 알려 드릴게요. " * 12 for i in range(1, 6)]
    for text in replies:
        handoffs(app).reply(chat, agent, text)
    seen: list[str] = []
    body = ask(client, skill_request("네"))[1]
    for _ in range(6):
        seen += [line for line in texts(body).split("\n") if line.startswith("상담원: ")]
        if "답변 보기" not in labels(body):
            break
        body = ask(client, skill_request("답변 보기", client_extra={"bokji": "fetch"}))[1]
    assert [s.removeprefix("상담원: ").split("번째")[0] for s in seen] == ["1", "2", "3", "4", "5"]
    assert "안내예요" not in texts(ask(client, skill_request("네"))[1])


def test_when_the_agent_returns_the_chat_the_notice_comes_before_the_bots_answer(
    app: Flask, client: FlaskClient, rasa: SlowRasa
) -> None:
    agent, chat = take_over(app, client, rasa)
    ask(client, skill_request("네"))
    handoffs(app).return_to_bot(chat, agent)
    _, body, _ = ask(client, skill_request("기초연금 얼마예요?"))
    shown = texts(body)
    assert shown.index("다시 챗봇이 답해 드려요") < shown.index("349,700원")
    assert not operator_offered(body), "no operator button once the chat is back with the bot"


# ---- a callbackUrl still open ------------------------------------------------------------------------------
def test_an_agent_reply_within_the_callback_window_is_posted_at_once(
    app: Flask, client: FlaskClient, rasa: SlowRasa, receiver: Receiver
) -> None:
    agent, chat = take_over(app, client, rasa)
    ask(client, skill_request("네"))  # takes the joined notice
    _, body, elapsed = ask(client, skill_request("서류는 뭐가 필요해요?", callback_url=receiver.url))
    assert body == {"version": "2.0", "useCallback": True, "data": {"text": FORWARDING}} and elapsed < 1.0
    time.sleep(0.2)
    assert receiver.bodies.empty(), "nothing is posted before the agent answers"
    handoffs(app).reply(chat, agent, "신분증만 있으면 돼요.")
    _, posted = receiver.next(timeout=5)
    assert texts(assert_skill_response(posted)) == "상담원: 신분증만 있으면 돼요." and operator_offered(posted)
    handoffs(app).reply(chat, agent, "더 궁금하신 점 있으세요?")
    time.sleep(0.3)
    assert receiver.bodies.empty(), "a callbackUrl is used once"
    _, body, _ = ask(client, skill_request("없어요"))
    assert "상담원: 더 궁금하신 점" in texts(body) and "신분증만" not in texts(body)


def test_a_callback_window_without_an_agent_reply_ends_with_an_honest_note(
    tmp_path: Path, rasa: SlowRasa, receiver: Receiver
) -> None:
    app = make_app(tmp_path, rasa, callback_window_s=0.5, answer_budget_s=BUDGET)
    client = app.test_client()
    agent, chat = take_over(app, client, rasa)
    ask(client, skill_request("네"))
    _, body, _ = ask(client, skill_request("서류는요?", callback_url=receiver.url))
    assert body["useCallback"] is True
    _, posted = receiver.next(timeout=5)
    assert texts(assert_skill_response(posted)) == NO_REPLY_YET and operator_offered(posted)
    handoffs(app).reply(chat, agent, "늦어서 죄송해요.")
    _, body, _ = ask(client, skill_request("여보세요"))
    assert "상담원: 늦어서 죄송해요." in texts(body)
    assert receiver.bodies.empty()
    app.extensions["bokji.kakao"].close()


# ---- the Event API (optional, paid) --------------------------------------------------------------------------
def event_app(tmp_path: Path, rasa: SlowRasa, kakao_api: Receiver) -> Flask:
    base = kakao_api.url.split("/v1/")[0]
    return make_app(tmp_path, rasa, event_api=True, event_api_url=base, rest_api_key=SecretStr("rest-key-123"),
                    bot_id="64f0c1d2e3a4b5c6d7e8f000!", event_name="agent_reply", answer_budget_s=BUDGET)  # fmt: skip


def test_event_api_sends_the_agent_reply_in_kakaos_documented_format_once(
    tmp_path: Path, rasa: SlowRasa, receiver: Receiver
) -> None:
    app = event_app(tmp_path, rasa, receiver)
    client = app.test_client()
    agent, chat = take_over(app, client, rasa)
    receiver.next(timeout=5)  # the joined notice went out the same way
    handoffs(app).reply(chat, agent, "신분증을 가져오세요.")
    receiver.next(timeout=5)
    request = receiver.requests[-1]
    assert request["path"] == "/v2/bots/64f0c1d2e3a4b5c6d7e8f000!/talk"
    assert request["headers"]["Authorization"] == "KakaoAK rest-key-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {
        "event": {"name": "agent_reply", "data": {"text": "상담원: 신분증을 가져오세요."}},
        "user": [{"type": "botUserKey", "id": USER, "properties": {}}],
    }
    _, body, _ = ask(client, skill_request("네"))
    assert texts(body) == FORWARDED, "what the Event API delivered is not repeated"
    app.extensions["bokji.kakao"].close()


def test_event_api_failure_is_logged_and_the_reply_waits_for_the_next_message(
    tmp_path: Path, rasa: SlowRasa, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 400
    app = event_app(tmp_path, rasa, receiver)
    client = app.test_client()
    agent, chat = take_over(app, client, rasa)
    handoffs(app).reply(chat, agent, "신분증을 가져오세요.")
    for _ in range(2):
        receiver.next(timeout=5)
    time.sleep(0.2)
    assert "event api" in caplog.text
    _, body, _ = ask(client, skill_request("네"))
    assert texts(body).index("상담원이 연결되었어요") < texts(body).index("상담원: 신분증을 가져오세요.")
    app.extensions["bokji.kakao"].close()


def test_event_api_without_its_key_and_bot_id_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="REST_API_KEY"):
        KakaoSettings(event_api=True, bot_id="abc")
    assert KakaoSettings().event_api is False
