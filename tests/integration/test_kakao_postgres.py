"""KakaoTalk delivery shared by two web apps on a real PostgreSQL server: claims hold under a race, nothing twice.

The unit tier runs the same flows on SQLite (tests/unit/kakao/test_kakao_replicas.py); here the row claims
(``UPDATE ... WHERE claimed_by IS NULL``) meet PostgreSQL's concurrency, with both apps asking at the same instant.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import SecretStr

from channels.app import create_app
from channels.handoff import HandoffService
from channels.settings import AppSettings, KakaoSettings
from tests.handoff_support import staff
from tests.kakao_support import TOKEN, Receiver, SlowRasa, ask, assert_skill_response, skill_request, texts

pytestmark = pytest.mark.integration


@pytest.fixture
def pair(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Flask, SlowRasa]]:
    rasa = SlowRasa()
    kakao: dict[str, Any] = {"token": SecretStr(TOKEN), "answer_budget_s": 0.3, "callback_hosts": ["127.0.0.1"]}
    apps = [
        create_app(
            AppSettings(data_dir=tmp_path, web_port=port, database_url=postgres_url, kakao=KakaoSettings(**kakao)),
            engine=rasa,
        )
        for port in (8101, 8102)
    ]
    yield apps[0], apps[1], rasa
    for app in apps:
        app.extensions["bokji.kakao"].close()
        app.extensions["bokji.database"].dispose()


def test_a_late_answer_is_shown_once_when_both_replicas_are_asked_at_the_same_instant(
    pair: tuple[Flask, Flask, SlowRasa],
) -> None:
    a, b, rasa = pair
    assert a.extensions["bokji.database"].engine.dialect.name == "postgresql"
    user = "pg" + secrets.token_hex(6)
    rasa.delay = 0.6
    _, body, _ = ask(a.test_client(), skill_request("기초연금 얼마예요?", user_id=user))
    assert "349,700원" not in texts(body)
    time.sleep(0.6)
    bodies: list[dict[str, Any]] = []
    start = threading.Barrier(8)

    def fetch(app: Flask) -> None:
        start.wait()
        bodies.append(ask(app.test_client(), skill_request("답변 보기", user_id=user))[1])

    threads = [threading.Thread(target=fetch, args=(app,)) for app in (a, b) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 8
    assert sum("349,700원" in texts(body) for body in bodies) == 1, [texts(body)[:30] for body in bodies]


def test_a_staff_reply_on_one_replica_reaches_the_callback_held_by_the_other(
    pair: tuple[Flask, Flask, SlowRasa], receiver: Receiver
) -> None:
    a, b, rasa = pair
    user = "pg" + secrets.token_hex(6)
    rasa.replies["사람이랑 얘기할래요"] = [{"text": "연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    ask(a.test_client(), skill_request("사람이랑 얘기할래요", user_id=user))
    service: HandoffService = b.extensions["bokji.handoffs"]
    agent = staff(service, "pg-kakao-" + user[-4:], name="김상담")
    sender = a.extensions["bokji.kakao"].sender_ids.kakao(user)
    [view] = [v for v in service.queue() if v.sender_id == sender]
    service.claim(view.id, agent)
    time.sleep(0.3)
    ask(b.test_client(), skill_request("네", user_id=user))  # the joined notice
    _, body, _ = ask(a.test_client(), skill_request("서류는요?", user_id=user, callback_url=receiver.url))
    assert body["useCallback"] is True
    service.reply(view.id, agent, "신분증만 있으면 돼요.")
    _, posted = receiver.next(timeout=10)
    assert texts(assert_skill_response(posted)) == "상담원: 신분증만 있으면 돼요."
    time.sleep(0.5)
    assert receiver.bodies.empty()
