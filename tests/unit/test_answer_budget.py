"""A citizen on a channel that does not stream never waits past the channel's budget for the model."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerWelfare
from actions.streams import AnswerStreams
from knowledge.answering.chain import AnswerTimes
from tests.unit.fakes import ScriptedChat

AMOUNT_Q = "기초연금 최대 얼마까지 받을 수 있어요?"


class SlowModel(BaseChatModel):
    """Writes one token every 50 ms for ``seconds``; stops when the chain's cancel event is set, and records that."""

    cancel_aware: ClassVar[bool] = True
    seconds: float = 5.0
    cancelled: list[float] = []
    started: list[float] = []

    @property
    def _llm_type(self) -> str:
        return "slow"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        cancel: threading.Event | None = kwargs.get("cancel_event")
        self.started.append(time.monotonic())
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            if cancel is not None and cancel.wait(0.05):
                self.cancelled.append(time.monotonic())
                return
            yield ChatGenerationChunk(message=AIMessageChunk(content="기"))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, **kwargs))


def tracker(metadata: dict[str, Any] | None = None) -> Tracker:
    return Tracker(
        "api:t", {"program": None}, {"text": AMOUNT_Q, "intent": {"name": "ask_welfare"}, "entities": [], "metadata": metadata},
        [], False, None, {}, "action_listen",
    )  # fmt: skip


def answer(action: ActionAnswerWelfare, metadata: dict[str, Any] | None = None) -> tuple[dict[str, Any], float]:
    dispatcher = CollectingDispatcher()
    started = time.monotonic()
    asyncio.run(action.run(dispatcher, tracker(metadata), {}))
    [message] = dispatcher.messages
    return message, time.monotonic() - started


def test_a_slow_model_is_cancelled_at_the_budget_and_the_citizen_gets_the_extract_at_once(build: Any) -> None:
    model = SlowModel(seconds=10.0, cancelled=[], started=[])
    action = ActionAnswerWelfare(build(model, faq=False, timeout_s=15.0), budget_s=1.0)
    message, took = answer(action)
    assert took < 1.0 + 0.8  # the budget, not the model's 15 s deadline (retrieval and analysis on top)
    assert "349,700원" in message["text"]  # copied from the passage, not thrown away
    assert message["custom"]["mode"] == "extractive"
    assert message["custom"]["decision"]["fallback"] == "over_budget"
    assert model.started and model.cancelled  # the model saw the cancel ...
    assert model.cancelled[0] - model.started[0] < 1.2  # ... at the budget, so no core is held for a thrown-away answer


def test_a_channel_may_ask_for_a_shorter_budget_but_never_a_longer_one(build: Any) -> None:
    model = SlowModel(seconds=10.0, cancelled=[], started=[])
    action = ActionAnswerWelfare(build(model, faq=False, timeout_s=15.0), budget_s=1.5)
    message, took = answer(action, {"answer_budget_s": 0.5})
    assert took < 0.5 + 0.8 and message["custom"]["decision"]["fallback"] == "over_budget"
    _, took = answer(action, {"answer_budget_s": 60})
    assert 1.4 < took < 1.5 + 0.8


def test_a_model_done_within_the_budget_is_used(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요 [1]."
    action = ActionAnswerWelfare(build(ScriptedChat(replies=[reply], delay_s=0.3), faq=False), budget_s=3.0)
    message, _ = answer(action)
    assert message["custom"]["mode"] == "generated" and message["text"].startswith(reply)


def test_a_streaming_channel_is_not_held_to_the_budget(build: Any) -> None:
    model = SlowModel(seconds=1.5, cancelled=[], started=[])
    streams = AnswerStreams()
    action = ActionAnswerWelfare(build(model, faq=False, timeout_s=15.0), streams, budget_s=0.5)
    placeholder, took = answer(action, {"stream": True})
    assert took < 1.0 and "stream" in placeholder["custom"]  # it reads the answer as the model writes it
    log = streams.get(placeholder["custom"]["stream"])
    assert log is not None
    final = list(log.follow(10))[-1]
    assert final["event"] == "final" and final["custom"]["decision"]["fallback"] != "over_budget"
    assert not model.cancelled


def test_a_model_that_keeps_missing_the_budget_is_not_started_for_it_and_the_extract_comes_at_once(build: Any) -> None:
    model = SlowModel(seconds=10.0, cancelled=[], started=[])
    service = build(model, faq=False, timeout_s=15.0)
    service.chain.answer_times = AnswerTimes(keep=3, min_samples=3, probe_every=100)
    for _ in range(3):  # three answers cut at a 1.5 s budget: the model's recent times do not fit it
        answer_, _trace = service.chain.invoke(AMOUNT_Q, budget_s=1.5)
        assert answer_.fallback == "over_budget"
    started = len(model.started)
    assert started == 3
    begun = time.monotonic()
    answer_, trace = service.chain.invoke(AMOUNT_Q, budget_s=1.5)
    assert len(model.started) == started  # no core spent on an answer that would be thrown away
    assert answer_.fallback == "over_budget" and "349,700원" in answer_.text and trace.model_skipped == "slower_than_budget"
    assert time.monotonic() - begun < 1.0  # at once, not at the budget
    # A streaming channel (no budget) still gets the model.
    model.seconds = 0.2
    answer_, trace = service.chain.invoke(AMOUNT_Q)
    assert len(model.started) == started + 1 and not trace.model_skipped


def test_answer_times_start_the_model_while_half_of_the_recent_answers_fit() -> None:
    times = AnswerTimes(keep=4, min_samples=4, probe_every=3)
    assert times.fits(0.1)  # no evidence yet
    for seconds in (1.0, 1.5, 4.0):
        times.add(seconds, finished=True)
    times.add(2.5, finished=False)  # cut at a 2.5 s budget: would not have finished in 2.5 s or less
    assert times.fits(1.5) and times.fits(2.0)  # 2 of 4 fit
    assert not times.fits(1.2) and not times.fits(1.2)  # 1 of 4 fits: skipped ...
    assert times.fits(1.2)  # ... but every third skip probes, so a machine that became faster is noticed
    for _ in range(4):
        times.add(0.8, finished=True)
    assert times.fits(1.2)


def test_answers_cut_at_a_shorter_budget_do_not_keep_the_model_from_a_longer_one() -> None:
    times = AnswerTimes(keep=5, min_samples=3, probe_every=100)
    for _ in range(5):
        times.add(0.5, finished=False)  # a channel that allows 0.5 s
    assert times.fits(2.4)  # they say nothing about 2.4 s: the model is tried
    assert not times.fits(0.4)  # but a 0.4 s budget is known to be too short
