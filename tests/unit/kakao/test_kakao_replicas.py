"""Several web replicas on one database: a KakaoTalk user's answers and staff replies reach them from any of them.

Two ``create_app`` on the same SQLite file stand in for two web replicas behind a round-robin proxy; a local
HTTP server stands in for Kakao's callbackUrl. Nothing may be shown twice, and nothing lost when a replica
dies or restarts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import SecretStr

from channels import kakao_staff
from channels.app import create_app
from channels.handoff import HandoffService
from channels.kakao_inbox import INTERRUPTED, KakaoInbox
from channels.kakao_staff import FORWARDING
from channels.settings import AppSettings, KakaoSettings
from tests.handoff_support import staff
from tests.kakao_support import TOKEN, Receiver, SlowRasa, ask, assert_skill_response, labels, sender, skill_request, texts

USER = "8a1d6f0c2b7e4d9f"
NOTHING = "기다리고 있는 답변은 없어요"


def replica(tmp_path: Path, rasa: SlowRasa, port: int, **kakao: Any) -> Flask:
    """One web replica: its own port (so its own name in the database), the shared database and id key."""
    options: dict[str, Any] = {"token": SecretStr(TOKEN), "answer_budget_s": 0.3, "callback_hosts": ["127.0.0.1"], **kakao}
    return create_app(AppSettings(data_dir=tmp_path, web_port=port, kakao=KakaoSettings(**options)), engine=rasa)


@pytest.fixture
def pair(tmp_path: Path, rasa: SlowRasa) -> Iterator[tuple[Flask, Flask]]:
    a, b = replica(tmp_path, rasa, 8001), replica(tmp_path, rasa, 8002)
    yield a, b
    for app in (a, b):
        app.extensions["bokji.kakao"].close()


def fetch(app: Flask, callback_url: str | None = None) -> dict[str, Any]:
    return ask(app.test_client(), skill_request("답변 보기", user_id=USER, callback_url=callback_url))[1]


def test_a_late_answer_computed_on_one_replica_is_shown_once_by_the_other(pair: tuple[Flask, Flask], rasa: SlowRasa) -> None:
    a, b = pair
    rasa.delay = 0.8
    _, body, _ = ask(a.test_client(), skill_request("기초연금 얼마 받을 수 있어요?", user_id=USER))
    assert "349,700원" not in texts(body) and labels(body) == ["답변 보기"]
    first = fetch(b)  # B asks while A still computes: B waits its budget, then says it is still coming
    assert "349,700원" not in texts(first) and labels(first) == ["답변 보기"]
    time.sleep(0.8)
    assert "349,700원" in texts(fetch(b))
    assert NOTHING in texts(fetch(a)) and NOTHING in texts(fetch(b)), "shown once, by one replica"
    assert [text for _, text in rasa.sent] == ["기초연금 얼마 받을 수 있어요?"]


def test_an_answer_finishing_on_one_replica_uses_the_callback_another_replica_holds(
    pair: tuple[Flask, Flask], rasa: SlowRasa, receiver: Receiver
) -> None:
    a, b = pair
    rasa.delay = 1.0
    ask(a.test_client(), skill_request("기초연금", user_id=USER))  # computed on A
    _, body, _ = ask(b.test_client(), skill_request("답변 보기", user_id=USER, callback_url=receiver.url))
    assert body["useCallback"] is True  # B holds the callbackUrl
    _, posted = receiver.next(timeout=5)
    assert "349,700원" in texts(assert_skill_response(posted))
    time.sleep(0.5)
    assert receiver.bodies.empty(), "the callbackUrl is used once"
    assert NOTHING in texts(fetch(a))


def take_over(app: Flask, rasa: SlowRasa) -> tuple[Any, int]:
    rasa.replies["사람이랑 얘기할래요"] = [
        {"text": "상담원에게 연결해 드릴게요."},
        {"custom": {"handoff": {"reason": "requested"}}},
    ]
    ask(app.test_client(), skill_request("사람이랑 얘기할래요", user_id=USER))
    service: HandoffService = app.extensions["bokji.handoffs"]
    agent = staff(service, "kim", name="김상담")
    [view] = service.queue()
    service.claim(view.id, agent)
    return agent, view.id


def test_a_staff_reply_written_on_one_replica_reaches_the_callback_held_by_the_other(
    tmp_path: Path, rasa: SlowRasa, receiver: Receiver
) -> None:
    a, b = (replica(tmp_path, rasa, port, answer_budget_s=2.0) for port in (8001, 8002))
    agent, chat = take_over(a, rasa)
    ask(a.test_client(), skill_request("네", user_id=USER))  # takes the joined notice
    _, body, _ = ask(a.test_client(), skill_request("서류는 뭐가 필요해요?", user_id=USER, callback_url=receiver.url))
    assert body == {"version": "2.0", "useCallback": True, "data": {"text": FORWARDING}}  # A holds it
    b.extensions["bokji.handoffs"].reply(chat, agent, "신분증만 있으면 돼요.")  # the console runs on B
    _, posted = receiver.next(timeout=5)
    assert texts(assert_skill_response(posted)) == "상담원: 신분증만 있으면 돼요."
    time.sleep(0.5)
    assert receiver.bodies.empty(), "posted once, by one replica"
    _, body, _ = ask(b.test_client(), skill_request("감사합니다", user_id=USER))
    assert "신분증만" not in texts(body)
    for app in (a, b):
        app.extensions["bokji.kakao"].close()


def test_an_answer_claimed_by_a_replica_that_died_is_delivered_after_the_lease(tmp_path: Path, rasa: SlowRasa) -> None:
    a = replica(tmp_path, rasa, 8001, claim_lease_s=1.0)
    rasa.delay = 0.5
    ask(a.test_client(), skill_request("기초연금", user_id=USER))
    time.sleep(0.6)
    dead = KakaoInbox(a.extensions["bokji.database"], "dead-replica", lease_s=1.0, answer_lease_s=300)
    [answer] = dead.undelivered(sender(a, USER))
    assert dead.claim_answer(answer.id)  # it took the answer to POST it, then died
    assert "349,700원" not in texts(fetch(a)), "a live claim is respected"
    time.sleep(1.1)
    assert "349,700원" in texts(fetch(a))
    assert NOTHING in texts(fetch(a))
    a.extensions["bokji.kakao"].close()


def test_a_restarted_replica_delivers_a_finished_answer_and_closes_an_unfinished_one_honestly(
    tmp_path: Path, rasa: SlowRasa
) -> None:
    first = replica(tmp_path, rasa, 8001)
    rasa.delay = 0.5
    ask(first.test_client(), skill_request("기초연금", user_id=USER))  # finishes after the reply, before the restart
    time.sleep(0.6)
    rasa.delay = 3.0
    ask(first.test_client(), skill_request("주거급여", user_id="other-user"))  # still being computed when it dies
    first.extensions["bokji.kakao"].close()

    again = replica(tmp_path, rasa, 8001)  # the same web process, started again on the same database
    assert "349,700원" in texts(fetch(again))
    assert NOTHING in texts(fetch(again))
    _, body, elapsed = ask(again.test_client(), skill_request("답변 보기", user_id="other-user"))
    assert INTERRUPTED in texts(body) and elapsed < 1.0, "not left waiting for an answer nobody computes"
    again.extensions["bokji.kakao"].close()


def test_another_replica_closes_an_answer_whose_replica_never_came_back(tmp_path: Path, rasa: SlowRasa) -> None:
    a = replica(tmp_path, rasa, 8001)
    b = replica(tmp_path, rasa, 8002, answer_lease_s=1.5)
    rasa.delay = 3.0
    ask(a.test_client(), skill_request("주거급여", user_id=USER))
    a.extensions["bokji.kakao"].close()  # A dies mid-answer and does not come back
    assert INTERRUPTED not in texts(fetch(b)), "a live answer of another replica is left alone"
    time.sleep(1.0)
    assert INTERRUPTED in texts(fetch(b))
    b.extensions["bokji.kakao"].close()


def test_a_callback_left_by_a_dead_replica_past_kakaos_minute_is_not_used_and_the_answer_comes_next_time(
    tmp_path: Path, rasa: SlowRasa, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kakao_staff, "CALLBACK_VALID", timedelta(seconds=0.8))  # Kakao's minute, shortened
    a = replica(tmp_path, rasa, 8001, claim_lease_s=1.0, callback_window_s=0.5)
    rasa.delay = 0.6
    _, body, _ = ask(a.test_client(), skill_request("기초연금", user_id=USER, callback_url=receiver.url))
    assert body["useCallback"] is True
    dead = KakaoInbox(a.extensions["bokji.database"], "dead-replica", lease_s=1.0, answer_lease_s=300)
    [held] = dead.open_callbacks(sender(a, USER), "answers")
    # Another replica took the callbackUrl and died before posting (A may be looking at it this instant: retry).
    assert any(dead.claim_callback(held.id) or time.sleep(0.02) for _ in range(50))
    time.sleep(3.0)  # the answer is ready, the claim's lease and Kakao's (shortened) minute have passed, swept
    assert receiver.bodies.empty(), "a callbackUrl past its validity is never posted to"
    assert "349,700원" in texts(fetch(a))
    assert NOTHING in texts(fetch(a))
    a.extensions["bokji.kakao"].close()
