"""The action server's /metrics and request ids: what an operator reads while it runs, and who may read it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from rasa_sdk import Action, Tracker
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sanic import Sanic

from actions.answer import ActionAnswerWelfare
from actions.guard import TOKEN_HEADER, add_guard
from actions.metrics import ActionMetrics, add_observability
from bokji.logging_setup import current_request_id
from knowledge.domain.answer import Answer
from knowledge.domain.decision import DecisionRecord
from tests.unit.fakes import ScriptedChat
from tests.unit.test_actions import run, tracker
from tests.unit.test_assist_suggestions import _lifespan

SECRET = "actions-secret"
SEEN: list[str] = []


class ActionNoteRequest(Action):
    """Records the request id its turn runs under, as a log line of the action would carry it."""

    def name(self) -> str:
        return "action_note_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        SEEN.append(current_request_id())
        return []


def call(metadata: dict[str, Any] | None = None, intent: str = "ask_welfare") -> dict[str, Any]:
    message = {"text": "기초연금", "intent": {"name": intent}, "metadata": metadata or {}}
    return {
        "next_action": "action_note_request",
        "sender_id": "web:a",
        "tracker": {"sender_id": "web:a", "slots": {}, "latest_message": message, "events": []},
        "domain": {},
    }


def serve(metrics_token: str = "") -> Any:
    """The rasa-sdk app with our gate and observability, called in process (the ASGI client is 127.0.0.1)."""
    executor = ActionExecutor()
    executor.register_action(ActionNoteRequest())
    app = create_app(executor)
    add_guard(app, SECRET)
    add_observability(app, ActionMetrics(), metrics_token)

    async def exchange(requests: list[tuple[str, str, Any, dict[str, str]]]) -> list[httpx.Response]:
        startup = await _lifespan(app)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://actions") as client:
                return [
                    await client.request(method, path, content=None if body is None else json.dumps(body), headers=headers)
                    for method, path, body, headers in requests
                ]
        finally:
            startup.cancel()

    return lambda *requests: asyncio.run(exchange(list(requests)))


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    SEEN.clear()


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_an_action_runs_under_the_request_id_the_web_app_put_in_the_metadata() -> None:
    exchange = serve()
    auth = {TOKEN_HEADER: SECRET}
    first, second, third, scrape = exchange(
        ("POST", "/webhook", call({"request_id": "turn-7f3a"}), auth),
        ("POST", "/webhook", call({"request_id": "bad id\nwith a break"}, intent="Robert'); DROP"), auth),
        ("POST", "/webhook", call(), {**auth, "X-Request-ID": "from-header"}),
        ("GET", "/metrics", None, {}),
    )
    assert first.headers["X-Request-ID"] == "turn-7f3a"
    assert SEEN[0] == "turn-7f3a"
    assert len(SEEN[1]) == 32 and SEEN[1] == second.headers["X-Request-ID"]  # unusable: a fresh one instead
    assert SEEN[2] == "from-header" == third.headers["X-Request-ID"]
    found = parse(scrape.text)
    assert found[("bokji_action_calls_total", (("action", "action_note_request"), ("intent", "ask_welfare")))] == 2
    assert found[("bokji_action_calls_total", (("action", "action_note_request"), ("intent", "other")))] == 1


def test_metrics_need_no_actions_secret_but_loopback_or_the_bearer() -> None:
    direct, proxied = serve()(("GET", "/metrics", None, {}), ("GET", "/metrics", None, {"X-Forwarded-For": "203.0.113.4"}))
    assert direct.status_code == 200 and "bokji_answers_total" in direct.text
    assert proxied.status_code == 404
    without, wrong, right = serve("prom-token-123")(
        ("GET", "/metrics", None, {}),
        ("GET", "/metrics", None, {"Authorization": "Bearer nope"}),
        ("GET", "/metrics", None, {"Authorization": "Bearer prom-token-123", "X-Forwarded-For": "10.0.0.1"}),
    )
    assert (without.status_code, wrong.status_code, right.status_code) == (404, 404, 200)


def answer(mode: str, fallback: str = "", **timing: Any) -> Answer:
    return Answer("답", (), 0.5, mode, fallback=fallback, decision=DecisionRecord(mode=mode, fallback=fallback, **timing))  # type: ignore[arg-type]


def test_stage_times_timeouts_and_grounding_failures_are_counted() -> None:
    metrics = ActionMetrics()
    metrics.observe(answer("faq", retrieve_ms=30.0, total_ms=45.0), "ask_welfare")
    metrics.observe(answer("extractive", "timeout", retrieve_ms=20.0, first_token_ms=None, total_ms=20500.0), "ask_welfare")
    metrics.observe(answer("extractive", "ungrounded", retrieve_ms=25.0, first_token_ms=900.0, total_ms=4000.0), "ask_amount")
    found = parse(metrics.exposition().decode())
    assert found[("bokji_answers_total", (("intent", "ask_welfare"), ("mode", "faq")))] == 1
    assert found[("bokji_answers_total", (("intent", "ask_welfare"), ("mode", "extractive")))] == 1
    assert found[("bokji_answer_stage_seconds_count", (("stage", "retrieval"),))] == 3
    assert found[("bokji_answer_stage_seconds_count", (("stage", "model_first_token"),))] == 1
    assert found[("bokji_answer_stage_seconds_sum", (("stage", "total"),))] == pytest.approx(24.545)
    # the 20.5 s answer is past the 20 s bucket, the 45 ms one within 50 ms
    assert found[("bokji_answer_stage_seconds_bucket", (("le", "20.0"), ("stage", "total")))] == 2
    assert found[("bokji_answer_stage_seconds_bucket", (("le", "0.05"), ("stage", "total")))] == 1
    assert found[("bokji_model_timeouts_total", ())] == 1
    assert found[("bokji_grounding_failures_total", ())] == 1


def test_a_real_answer_is_counted_with_its_intent_and_stages(service: Any) -> None:
    metrics = ActionMetrics()
    [message] = run(ActionAnswerWelfare(service, metrics=metrics), tracker("기초연금 얼마 받을 수 있어요?"))
    assert message["custom"]["mode"] == "faq"
    found = parse(metrics.exposition().decode())
    assert found[("bokji_answers_total", (("intent", "ask_welfare"), ("mode", "faq")))] == 1
    assert found[("bokji_answer_stage_seconds_count", (("stage", "retrieval"),))] == 1
    assert found[("bokji_answer_stage_seconds_count", (("stage", "total"),))] == 1


def test_a_model_that_misses_its_deadline_counts_as_a_timeout(build: Any) -> None:
    metrics = ActionMetrics()
    slow = ScriptedChat(replies=["2026년 기초연금은 월 349,700원이에요 [1]."], delay_s=1.0)
    action = ActionAnswerWelfare(build(slow, faq=False, timeout_s=0.3), metrics=metrics)
    [message] = run(action, tracker("기초연금 얼마 받을 수 있어요?"))
    assert message["custom"]["mode"] != "generated"
    assert parse(metrics.exposition().decode())[("bokji_model_timeouts_total", ())] == 1
