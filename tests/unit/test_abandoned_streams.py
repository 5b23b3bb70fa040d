"""An answer left half-written by a web process that stopped says so in history; other replicas' live answers do not."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from channels.app import create_app
from channels.conversation import STREAM_ABANDONED, STREAM_PLACEHOLDER
from channels.settings import AppSettings
from channels.store.models import Turn, utcnow
from tests.unit.fakes import ScriptedRasa
from tests.unit.test_widget_streaming import ScriptedStreams


@pytest.fixture
def rasa() -> ScriptedRasa:
    rasa = ScriptedRasa()
    rasa.reply = [{"recipient_id": "x", "custom": {"stream": "s-1", "mode": "generated"}}]
    return rasa


def replica(tmp_path: Path, port: int, rasa: ScriptedRasa, streams: ScriptedStreams) -> FlaskClient:
    return create_app(AppSettings(data_dir=tmp_path, web_port=port), engine=rasa, streams=streams).test_client()


def start_answer(client: FlaskClient, session: str) -> None:
    response = client.post(
        "/api/v1/widget/chat", json={"session_id": session, "text": "기초연금?", "stream": True}, buffered=False
    )
    response.close()  # the browser went away; the answer is still being written (held at the gate)


def bot_text(client: FlaskClient, session: str) -> str:
    return client.get(f"/api/v1/history?session_id={session}").get_json()["messages"][-1]["text"]


def test_a_replica_starting_leaves_another_replicas_live_answer_alone(tmp_path: Path, rasa: ScriptedRasa) -> None:
    held = ScriptedStreams()
    held.gate = threading.Event()
    first = replica(tmp_path, 8001, rasa, held)
    start_answer(first, "r-1")
    second = replica(tmp_path, 8002, rasa, ScriptedStreams())  # starts while the first is still writing
    assert bot_text(second, "r-1") == STREAM_PLACEHOLDER
    held.gate.set()  # the first replica finishes its answer
    # The first replica records the final answer in place of the placeholder.
    for _ in range(100):
        if bot_text(second, "r-1") not in (STREAM_PLACEHOLDER, ""):
            break
        threading.Event().wait(0.05)
    assert bot_text(second, "r-1").startswith("기초연금은 월 349,700원")


def test_the_restarted_replica_closes_what_its_predecessor_left(tmp_path: Path, rasa: ScriptedRasa) -> None:
    held = ScriptedStreams()
    held.gate = threading.Event()
    start_answer(replica(tmp_path, 8001, rasa, held), "r-2")  # then the process "dies" mid-answer
    other = replica(tmp_path, 8002, rasa, ScriptedStreams())
    assert bot_text(other, "r-2") == STREAM_PLACEHOLDER
    restarted = replica(tmp_path, 8001, rasa, ScriptedStreams())
    assert bot_text(restarted, "r-2") == STREAM_ABANDONED
    held.gate.set()


def test_a_placeholder_of_a_replica_that_never_came_back_is_closed_after_ten_minutes(tmp_path: Path, rasa: ScriptedRasa) -> None:
    held = ScriptedStreams()
    held.gate = threading.Event()
    first = replica(tmp_path, 8001, rasa, held)
    start_answer(first, "r-3")
    with first.application.extensions["bokji.database"].session() as session:
        session.execute(update(Turn).where(Turn.streaming.is_(True)).values(created_at=utcnow() - timedelta(minutes=11)))
    assert bot_text(replica(tmp_path, 8002, rasa, ScriptedStreams()), "r-3") == STREAM_ABANDONED
    held.gate.set()
