"""Kakao's 5-second rule: slow answers take the callback path, or wait for the user's next message.

A slow stand-in for Rasa forces the late paths; a local HTTP server stands in for Kakao's callbackUrl.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from channels.settings import KakaoSettings
from tests.kakao_support import (
    KAKAO_LIMIT_S,
    SOURCE,
    Receiver,
    SlowRasa,
    ask,
    assert_skill_response,
    labels,
    list_card,
    make_app,
    sender,
    skill_request,
    texts,
)


# ---- the 5-second rule: callback ------------------------------------------------------------------------
def test_slow_answer_takes_the_callback_path(app: Flask, client: FlaskClient, rasa: SlowRasa, receiver: Receiver) -> None:
    rasa.delay = 0.8
    status, body, elapsed = ask(client, skill_request("기초연금 얼마 받을 수 있어요?", callback_url=receiver.url))
    acked = time.monotonic()
    assert status == 200 and elapsed < 0.7
    assert body == {"version": "2.0", "useCallback": True, "data": {"text": "답변을 준비하고 있어요..."}}
    posted_at, posted = receiver.next(timeout=10)
    assert_skill_response(posted)
    assert "349,700원" in texts(posted) and list_card(posted)["items"][0]["link"]["web"] == SOURCE["url"]
    assert posted_at - acked < 60
    time.sleep(0.3)
    assert receiver.bodies.empty(), "the callbackUrl is usable once"
    _, after, _ = ask(client, skill_request("답변 보기", client_extra={"bokji": "fetch"}))
    assert "기다리고 있는 답변은 없어요" in texts(after), "an answer sent by callback is not shown twice"


def test_default_budget_replies_well_within_five_seconds(tmp_path: Path, rasa: SlowRasa, receiver: Receiver) -> None:
    app = make_app(tmp_path, rasa, answer_budget_s=KakaoSettings().answer_budget_s)
    rasa.delay = 4.5
    _, body, elapsed = ask(app.test_client(), skill_request("기초연금", callback_url=receiver.url))
    assert body["useCallback"] is True and 3.0 < elapsed < 4.0
    _, posted = receiver.next(timeout=10)
    assert "349,700원" in texts(assert_skill_response(posted))
    app.extensions["bokji.kakao"].close()


def test_callback_window_ending_sends_a_note_and_keeps_the_answer(tmp_path: Path, rasa: SlowRasa, receiver: Receiver) -> None:
    app = make_app(tmp_path, rasa, callback_window_s=0.5)
    client = app.test_client()
    rasa.delay = 1.0
    _, body, _ = ask(client, skill_request("기초연금", callback_url=receiver.url))
    assert body["useCallback"] is True
    _, posted = receiver.next(timeout=5)
    assert "늦어지고" in texts(assert_skill_response(posted)) and "답변 보기" in labels(posted)
    time.sleep(0.7)
    _, later, _ = ask(client, skill_request("답변 보기"))
    assert "349,700원" in texts(later)
    assert receiver.bodies.empty()
    app.extensions["bokji.kakao"].close()


def test_callback_url_on_an_unknown_host_is_never_called(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.delay = 0.5
    _, body, _ = ask(client, skill_request("기초연금", callback_url="https://attacker.example.com/steal"))
    assert "useCallback" not in body and "답변 보기" in labels(body)


# ---- the 5-second rule: no callback ---------------------------------------------------------------------
def test_without_callback_the_answer_waits_for_the_next_message(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.delay = 0.7
    _, body, elapsed = ask(client, skill_request("기초연금 얼마 받을 수 있어요?"))
    assert elapsed < 0.6
    assert "답변 보기" in texts(body) and labels(body) == ["답변 보기"]
    assert body["template"]["quickReplies"][0]["extra"] == {"bokji": "fetch"}
    time.sleep(0.6)
    _, body, elapsed = ask(client, skill_request("답변 보기", client_extra={"bokji": "fetch"}))
    assert "349,700원" in texts(body) and elapsed < 0.6
    assert [text for _, text in rasa.sent] == ["기초연금 얼마 받을 수 있어요?"], "답변 보기 is not sent to Rasa"
    _, body, _ = ask(client, skill_request("답변 보기"))
    assert "기다리고 있는 답변은 없어요" in texts(body)


def test_a_new_question_collects_the_waiting_answer_first(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.delay = 0.6
    ask(client, skill_request("기초연금 얼마 받을 수 있어요?"))
    rasa.delay = 0.0
    rasa.replies["주거급여가 뭐예요?"] = [{"text": "주거급여는 집세를 도와드리는 제도예요."}]
    time.sleep(0.5)
    _, body, _ = ask(client, skill_request("주거급여가 뭐예요?"))
    answer = texts(body)
    assert answer.index("349,700원") < answer.index("주거급여는")
    assert [text for _, text in rasa.sent] == ["기초연금 얼마 받을 수 있어요?", "주거급여가 뭐예요?"]


def test_fetch_while_still_preparing_holds_again(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.delay = 1.0
    ask(client, skill_request("기초연금"))
    _, body, elapsed = ask(client, skill_request("답변 보기"))
    assert elapsed < 0.6 and labels(body) == ["답변 보기"]
    time.sleep(0.6)
    _, body, _ = ask(client, skill_request("답변 보기"))
    assert "349,700원" in texts(body)


def test_too_many_answers_in_flight_turns_new_messages_away_quickly(tmp_path: Path, rasa: SlowRasa) -> None:
    app = make_app(tmp_path, rasa, max_in_flight=1)
    client = app.test_client()
    rasa.delay = 0.8
    ask(client, skill_request("기초연금", user_id="first"))
    _, body, elapsed = ask(client, skill_request("주거급여", user_id="second"))
    assert "문의가 많아" in texts(body) and elapsed < 0.3
    assert [s for s, _ in rasa.sent] in ([], [sender(app, "first")])
    app.extensions["bokji.kakao"].close()


def test_many_concurrent_users_all_get_a_reply_within_the_limit(tmp_path: Path, rasa: SlowRasa) -> None:
    app = make_app(tmp_path, rasa, workers=2)
    rasa.delay = 0.1
    results: list[tuple[int, dict[str, Any], float]] = []

    def one(i: int) -> None:
        results.append(ask(app.test_client(), skill_request(f"기초연금 {i}", user_id=f"user{i}")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12
    assert all(elapsed < KAKAO_LIMIT_S for _, _, elapsed in results)
    assert sum("349,700원" in texts(b) for _, b, _ in results) >= 2
    app.extensions["bokji.kakao"].close()
