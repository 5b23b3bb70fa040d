"""The replayable event log both sides of a streamed answer use."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from knowledge.answering.streaming import EventLog, produce_in_background


def slow(events: list[str], pause_s: float, gate: threading.Event | None = None) -> Iterator[str]:
    for i, event in enumerate(events):
        if gate is not None and i == 1:
            assert gate.wait(5)
        time.sleep(pause_s)
        yield event


def test_a_late_reader_replays_everything_and_early_readers_see_it_live() -> None:
    log: EventLog[str] = EventLog()
    gate = threading.Event()
    produce_in_background(slow(["가", "나", "다"], 0.01, gate), log, lambda exc: "error", name="t")
    seen_live: list[str] = []
    reader = threading.Thread(target=lambda: seen_live.extend(log.follow(5)))
    reader.start()
    time.sleep(0.1)
    assert log.wait(0, 0) == (["가"], False), "the producer never waits for a reader"
    gate.set()
    reader.join(5)
    assert seen_live == ["가", "나", "다"]
    assert list(log.follow(1)) == ["가", "나", "다"] and log.closed and log.closed_at is not None


def test_an_exception_becomes_the_last_event_and_the_log_closes() -> None:
    def broken() -> Iterator[str]:
        yield "가"
        raise ConnectionError("model gone")

    log: EventLog[str] = EventLog()
    produce_in_background(broken(), log, lambda exc: f"error: {exc}", name="t").join(5)
    assert list(log.follow(1)) == ["가", "error: model gone"]
    with pytest.raises(RuntimeError):
        log.append("late")


def test_a_reader_stops_waiting_when_nothing_comes() -> None:
    log: EventLog[str] = EventLog()
    log.append("가")
    events = log.follow(0.1)
    assert next(events) == "가"
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        next(events)
    assert time.monotonic() - start < 2
