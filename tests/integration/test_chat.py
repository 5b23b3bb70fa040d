"""A citizen's questions through the real web app, Rasa server, action server and knowledge store."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

from knowledge.ingestion.seed_files import load_faq_dir
from knowledge.settings import KnowledgeSettings
from tests.citizen_support import API_AUTH
from tests.integration.conftest import RunningStack

pytestmark = pytest.mark.integration


# The two honest ways to say "I cannot help with that": the out_of_scope reply, and the knowledge base's
# "not found" (nlu_fallback goes there). A greeting or chit-chat reply also says "복지" and offers a human.
DECLINED = ("답하기 어려워요", "확인할 수 없었어요")


def declined(text: str) -> bool:
    return any(phrase in text for phrase in DECLINED)


def chat(stack: RunningStack, session: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.web}/api/v1/chat", json={"session_id": session, "text": text}, headers=API_AUTH, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_id"] == session
    return list(body["messages"])


def test_basic_pension_amount_is_answered_with_the_2026_figure_and_its_source(stack: RunningStack) -> None:
    [message] = chat(stack, "t1", "기초연금 얼마 받을 수 있어요?")
    assert "349,700원" in message["text"]
    entry = next(e for e in load_faq_dir(KnowledgeSettings().seed_dir) if e.id == "basic-pension-amount")
    assert message["sources"] == [
        {"title": entry.source.title, "url": entry.source.url, "updated_at": entry.updated_at.isoformat()}
    ]


def test_follow_up_question_keeps_the_program(stack: RunningStack) -> None:
    chat(stack, "t2", "기초연금 얼마 받을 수 있어요?")
    [message] = chat(stack, "t2", "그거 어디서 신청해요?")
    assert "주민센터" in message["text"] or "신청" in message["text"]
    assert "basicpension" in message["sources"][0]["url"]


def test_greeting_offers_quick_replies(stack: RunningStack) -> None:
    [message] = chat(stack, "t3", "안녕하세요~")
    assert "복지" in message["text"]
    assert {"title": "상담원 연결", "payload": "/request_human"} in message["buttons"]


def test_quick_reply_payload_works_as_a_message(stack: RunningStack) -> None:
    message, notice = chat(stack, "t3b", "/request_human")
    assert "상담원" in message["text"] and notice["buttons"][0]["payload"] == "/cancel_handoff"


def test_crisis_gets_helplines_first_and_an_urgent_handoff(stack: RunningStack) -> None:
    messages = chat(stack, "t4", "요즘 너무 힘들어서 죽고 싶어요")
    first = messages[0]["text"]
    assert first.index("109") < first.index("129") < first.index("119")
    db = sqlite3.connect(stack.data_dir / "conversations.sqlite3")
    rows = db.execute("SELECT reason, urgent FROM handoffs WHERE sender_id = 'api:test:t4' AND state = 'waiting'").fetchall()
    assert rows == [("crisis", 1)]


def test_asking_for_a_human_queues_the_chat(stack: RunningStack) -> None:
    message, notice = chat(stack, "t5", "상담원이랑 직접 얘기하고 싶어요")
    assert "상담원" in message["text"] and "129" in message["text"]
    assert "상담원 연결을 요청했어요" in notice["text"] or "상담 시간" in notice["text"] or "상담원이 없어요" in notice["text"]
    db = sqlite3.connect(stack.data_dir / "conversations.sqlite3")
    assert db.execute("SELECT count(*) FROM handoffs WHERE sender_id = 'api:test:t5'").fetchone() == (1,)


def test_non_welfare_question_is_declined_politely(stack: RunningStack) -> None:
    [message] = chat(stack, "t6", "비트코인 지금 사도 돼?")
    assert declined(message["text"]) and "복지" in message["text"], message["text"]
    assert "349,700" not in message["text"]


def test_unknown_welfare_question_is_honest_and_offers_a_way_forward(stack: RunningStack) -> None:
    [message] = chat(stack, "t7", "화성 이주 지원금 있나요")
    assert "확인할 수 없었어요" in message["text"]
    assert {"title": "상담원 연결", "payload": "/request_human"} in message["buttons"]
    assert "129" in message["text"] and message["sources"]


@pytest.mark.parametrize(
    "content",
    [
        b'{"session_id": "x", "text": ""}',
        b'{"session_id": "x"}',
        b'{"session_id": "x", "text": ',
        b'{"session_id": 1, "text": 2}',
        b'{"session_id": "x", "text": "' + "가".encode() * 100_000 + b'"}',
    ],
)
def test_bad_input_gets_4xx_and_the_server_keeps_serving(stack: RunningStack, content: bytes) -> None:
    headers = {"content-type": "application/json", **API_AUTH}
    response = httpx.post(f"{stack.web}/api/v1/chat", content=content, headers=headers, timeout=30)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["message"]
    assert chat(stack, "after-bad", "안녕하세요")


def test_health_reports_every_dependency_up(stack: RunningStack) -> None:
    response = httpx.get(f"{stack.web}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["dependencies"] == {"rasa": "up", "actions": "up", "store": "up", "warm": "up"}


def test_chat_page_is_served(stack: RunningStack) -> None:
    page = httpx.get(f"{stack.web}/", timeout=10)
    assert page.status_code == 200 and "복지 안내 챗봇" in page.text


def test_gibberish_gets_an_honest_answer_not_a_random_intent(stack: RunningStack) -> None:
    [message] = chat(stack, "t8", "ㅁㄴㅇㄹ 콩나물 자전거 파랑 ㅎㅎ")
    assert declined(message["text"]), message["text"]
    assert {"title": "상담원 연결", "payload": "/request_human"} in message["buttons"]


def test_one_request_id_follows_a_turn_through_web_log_and_actions_log(stack: RunningStack) -> None:
    """The id the caller sends (or the web app makes) is in the JSON lines of both our processes for that turn.

    Rasa's own log lines stay as Rasa writes them; the id reaches the action server in the message metadata.
    """
    import json
    import secrets
    import time
    from pathlib import Path

    from prometheus_client.parser import text_string_to_metric_families

    from tests.citizen_support import open_http_session

    request_id = f"itest-{secrets.token_hex(6)}"
    session_id, holder = open_http_session(stack.web)
    response = httpx.post(
        f"{stack.web}/api/v1/widget/chat",
        json={"session_id": session_id, "text": "기초연금 얼마 받을 수 있어요? 제 번호는 010-2345-6789예요"},
        headers={**holder, "X-Request-ID": request_id},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == request_id
    logs = Path(__file__).resolve().parents[2] / "var" / "log"

    def lines(name: str) -> list[dict[str, Any]]:
        text = (logs / name).read_text(encoding="utf-8", errors="replace")
        return [json.loads(line) for line in text.splitlines() if request_id in line and line.startswith("{")]

    deadline = time.monotonic() + 10
    while not (lines("web.log") and lines("actions.log")) and time.monotonic() < deadline:
        time.sleep(0.2)  # both processes flush their lines on their own
    web, actions = lines("web.log"), lines("actions.log")
    assert web and all(line["request_id"] == request_id and line["process"] == "web" for line in web)
    assert actions and all(line["request_id"] == request_id and line["process"] == "actions" for line in actions)
    assert any(line["logger"] == "knowledge.answering.chain" for line in actions)  # the turn's answer decision
    assert "010-2345-6789" not in json.dumps(web + actions, ensure_ascii=False)  # masked on the way
    # Both /metrics count the turn (loopback, no token: the stack's default).
    scraped = {}
    for base in (stack.web, stack.actions):
        for family in text_string_to_metric_families(httpx.get(f"{base}/metrics", timeout=10).text):
            scraped.update({(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples})
    assert scraped[("bokji_turns_total", (("channel", "web"), ("mode", "faq")))] >= 1
    assert sum(v for (name, labels), v in scraped.items() if name == "bokji_answers_total" and ("mode", "faq") in labels) >= 1
    assert scraped[("bokji_answer_stage_seconds_count", (("stage", "retrieval"),))] >= 1
    assert ("bokji_handoffs_waiting", ()) in scraped
