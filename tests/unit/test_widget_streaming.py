"""Generated answers streamed to the widget: NDJSON lines, the transcript, failures and disconnects."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.answer_streams import StreamUnavailableError
from channels.app import create_app
from channels.conversation import STREAM_ABANDONED, STREAM_PLACEHOLDER
from channels.settings import AppSettings, WidgetSettings
from channels.store.transcripts import TranscriptStore
from knowledge.settings import KnowledgeSettings, LlmSettings
from tests.unit.fakes import SOURCE, ScriptedRasa

FIRST = "기초연금은 월 349,700원까지 받을 수 있어요 [1]."
SECOND = "신청은 주민센터에서 해요 [1]."
FINAL_TEXT = f"{FIRST} {SECOND}\n\n※ 안내 자료를 바탕으로 정리한 답변이에요."
FINAL = {
    "event": "final",
    "text": FINAL_TEXT,
    "buttons": [],
    "custom": {"sources": [SOURCE], "mode": "generated", "confidence": 0.8, "doc_id": "basic-pension-amount"},
}


class ScriptedStreams:
    """Stands in for the action server's /streams/<id>: scripted events, optionally held at a gate."""

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = [{"event": "delta", "text": FIRST}, {"event": "delta", "text": SECOND}, FINAL]
        self.error: Exception | None = None
        self.gate: threading.Event | None = None
        self.read: list[str] = []

    def events(self, stream_id: str) -> Iterator[dict[str, Any]]:
        self.read.append(stream_id)
        for i, event in enumerate(self.script):
            if self.gate is not None and i == 1:
                assert self.gate.wait(10)
            yield event
        if self.error is not None:
            raise self.error


@pytest.fixture
def rasa() -> ScriptedRasa:
    rasa = ScriptedRasa()
    rasa.reply = [{"recipient_id": "x", "custom": {"stream": "s-1", "mode": "generated"}}]
    return rasa


@pytest.fixture
def streams() -> ScriptedStreams:
    return ScriptedStreams()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, streams: ScriptedStreams) -> Flask:
    return create_app(AppSettings(data_dir=tmp_path), engine=rasa, streams=streams)


def ask(client: FlaskClient, session: str, text: str = "기초연금 최대 얼마까지 받을 수 있어요?") -> list[dict[str, Any]]:
    response = client.post("/api/v1/widget/chat", json={"session_id": session, "text": text, "stream": True})
    assert response.mimetype == "application/x-ndjson" and response.headers["Cache-Control"] == "no-cache, no-store"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def bot_turn(transcripts: TranscriptStore, sender: str) -> dict[str, Any]:
    return [t for t in transcripts.recent_turns(sender, 10) if t["role"] == "bot"][-1]


def wait_for(check: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_generated_answer_arrives_sentence_by_sentence_then_whole(client: FlaskClient, rasa: ScriptedRasa) -> None:
    lines = ask(client, "w-1")
    assert [line["type"] for line in lines] == ["reply", "delta", "delta", "final"]
    [placeholder] = lines[0]["messages"]
    assert placeholder["streaming"] is True and isinstance(placeholder["id"], int)
    assert [line["text"] for line in lines[1:3]] == [FIRST, SECOND]
    final = lines[-1]["message"]
    assert final["id"] == placeholder["id"] and final["text"] == FINAL_TEXT and final["sources"] == [SOURCE]
    assert final["streaming"] is False and lines[-1]["degraded"] is False
    assert [(m or {}).get("stream") for m in rasa.metadata] == [True], "Rasa's actions are told the channel can stream"


def test_the_transcript_and_history_keep_the_final_answer(client: FlaskClient, app: Flask) -> None:
    lines = ask(client, "w-2")
    message_id = lines[-1]["message"]["id"]
    history = client.get("/api/v1/history?session_id=w-2").get_json()["messages"]
    assert [m["role"] for m in history] == ["citizen", "bot"]
    assert history[1]["id"] == message_id and history[1]["text"] == FINAL_TEXT and history[1]["sources"] == [SOURCE]
    rated = client.post("/api/v1/feedback", json={"session_id": "w-2", "message_id": message_id, "rating": "up"})
    assert rated.status_code == 200


def test_the_answer_is_recorded_when_the_citizen_leaves_mid_stream(app: Flask, streams: ScriptedStreams) -> None:
    streams.gate = threading.Event()
    client = app.test_client()
    response = client.post(
        "/api/v1/widget/chat", json={"session_id": "w-3", "text": "기초연금 얼마?", "stream": True}, buffered=False
    )
    first = json.loads(next(iter(response.response)))
    assert first["type"] == "reply"
    response.close()  # the browser went away
    transcripts: TranscriptStore = app.extensions["bokji.transcripts"]
    assert bot_turn(transcripts, "web:w-3")["text"] == STREAM_PLACEHOLDER, "history says it is being written meanwhile"
    streams.gate.set()
    wait_for(lambda: bot_turn(transcripts, "web:w-3")["text"] == FINAL_TEXT)
    assert "streaming" not in bot_turn(transcripts, "web:w-3")["meta"]


def test_a_broken_stream_ends_with_the_apology_and_129(client: FlaskClient, streams: ScriptedStreams, app: Flask) -> None:
    streams.script = [{"event": "delta", "text": FIRST}]
    streams.error = StreamUnavailableError("connection reset")
    lines = ask(client, "w-4")
    assert [line["type"] for line in lines] == ["reply", "delta", "final"]
    final = lines[-1]
    assert final["degraded"] is True and "129" in final["message"]["text"] and "349,700" not in final["message"]["text"]
    turn = bot_turn(app.extensions["bokji.transcripts"], "web:w-4")
    assert turn["text"] == final["message"]["text"] and turn["meta"]["degraded"] is True


def test_a_taken_back_sentence_is_reset_before_the_final_answer(client: FlaskClient, streams: ScriptedStreams) -> None:
    extract = {**FINAL, "text": "자료에서 찾은 관련 내용을 그대로 옮겨 드려요: 월 349,700원 [1]"}
    streams.script = [{"event": "delta", "text": FIRST}, {"event": "reset"}, extract]
    lines = ask(client, "w-5")
    assert [line["type"] for line in lines] == ["reply", "delta", "reset", "final"]
    assert lines[-1]["message"]["text"] == extract["text"]


def test_an_unknown_stream_event_is_ignored_and_a_missing_final_apologises(client: FlaskClient, streams: ScriptedStreams) -> None:
    streams.script = [{"event": "delta", "text": FIRST}, {"event": "surprise"}, {"event": "error"}]
    lines = ask(client, "w-6")
    assert [line["type"] for line in lines] == ["reply", "delta", "final"] and lines[-1]["degraded"] is True


def test_faq_answers_need_no_stream(client: FlaskClient, rasa: ScriptedRasa, streams: ScriptedStreams) -> None:
    rasa.reply = [{"text": "2026년 기초연금은 월 349,700원이에요."}, {"custom": {"sources": [SOURCE], "mode": "faq"}}]
    lines = ask(client, "w-7", "기초연금 얼마예요?")
    assert [line["type"] for line in lines] == ["reply"] and lines[0]["messages"][0]["streaming"] is False
    assert streams.read == []


def test_callers_that_do_not_stream_get_the_whole_answer(client: FlaskClient, rasa: ScriptedRasa) -> None:
    body = client.post("/api/v1/widget/chat", json={"session_id": "w-8", "text": "기초연금 얼마?"}).get_json()
    assert [(m or {}).get("stream") for m in rasa.metadata] == [None], "Rasa is not asked to stream"
    # Even if Rasa streamed anyway (an older widget, a misconfiguration), the reply is complete.
    [message] = body["messages"]
    assert message["text"] == FINAL_TEXT and message["streaming"] is False
    public = client.post("/api/v1/chat", json={"session_id": "t-8", "text": "기초연금 얼마?"}).get_json()
    assert public["messages"][0]["text"] == FINAL_TEXT


def test_stream_must_be_a_boolean(client: FlaskClient) -> None:
    for value in ("yes", 1, None, []):
        response = client.post("/api/v1/widget/chat", json={"session_id": "w-9", "text": "기초연금", "stream": value})
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_stream"


def test_streaming_can_be_switched_off(tmp_path: Path, rasa: ScriptedRasa, streams: ScriptedStreams) -> None:
    settings = AppSettings(data_dir=tmp_path, widget=WidgetSettings(streaming=False))
    client = create_app(settings, engine=rasa, streams=streams).test_client()
    rasa.reply = [{"text": "2026년 기초연금은 월 349,700원이에요."}]
    response = client.post("/api/v1/widget/chat", json={"session_id": "w-10", "text": "기초연금", "stream": True})
    assert [(m or {}).get("stream") for m in rasa.metadata] == [None]
    assert [json.loads(line)["type"] for line in response.get_data(as_text=True).splitlines()] == ["reply"]


def test_an_answer_left_unfinished_by_a_restart_says_so_after_the_restart(tmp_path: Path, rasa: ScriptedRasa) -> None:
    held = ScriptedStreams()
    held.gate = threading.Event()  # never opened: the app "stops" mid-answer
    client = create_app(AppSettings(data_dir=tmp_path), engine=rasa, streams=held).test_client()
    response = client.post("/api/v1/widget/chat", json={"session_id": "w-11", "text": "기초연금?", "stream": True}, buffered=False)
    response.close()
    restarted = create_app(AppSettings(data_dir=tmp_path), engine=rasa, streams=ScriptedStreams()).test_client()
    [_, bot] = restarted.get("/api/v1/history?session_id=w-11").get_json()["messages"]
    assert bot["text"] == STREAM_ABANDONED and bot["streaming"] is False
    held.gate.set()


def test_a_stream_timeout_shorter_than_the_model_deadline_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BOKJI_WIDGET__STREAM_TIMEOUT_S"):
        AppSettings(data_dir=tmp_path, widget=WidgetSettings(stream_timeout_s=10))
    slow_model = KnowledgeSettings(llm=LlmSettings(timeout_s=60))
    with pytest.raises(ValueError, match="must be larger"):
        AppSettings(data_dir=tmp_path, knowledge=slow_model)
