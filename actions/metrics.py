"""Prometheus metrics of the action server (``GET /metrics`` on its own port) and the request id of each call.

Answers by intent and mode, the time of each stage (retrieval, the model's first token, the whole
answer) from the answer's decision record, model timeouts and grounding failures where they happen.
Labels hold only names from domain.yml and fixed vocabularies, never a citizen's text or sender id.

The request id: the web app sends it as ``X-Request-ID`` on its own calls; for Rasa's action calls it
is in the latest message's metadata (the web app put it there), so an action's log lines carry the id of
the citizen turn that caused them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse, HTTPResponse
from sanic.response import json as json_response

from bokji.logging_setup import REQUEST_ID_HEADER, bind_request_id, current_request_id
from bokji.metrics_access import may_scrape
from knowledge.answering.chain import AnswerEvent
from knowledge.domain.answer import Answer

# Names of intents and actions as domain.yml writes them; anything else (a caller's invention) is "other".
_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")
# Seconds: retrieval takes tens of milliseconds, a model's first token up to its deadline (20 s by default).
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0)


def domain_name(value: Any) -> str:
    """``value`` when it looks like a domain.yml name, else ``other`` (labels must stay a small set)."""
    return value if isinstance(value, str) and _NAME.fullmatch(value) else "other"


def message_intent(message: dict[str, Any] | None) -> str:
    """The intent Rasa gave a user message ("none" when it has none)."""
    intent = ((message or {}).get("intent") or {}).get("name")
    return domain_name(intent) if intent else "none"


def latest_intent(call: dict[str, Any] | None) -> str:
    """The intent of the latest user message of an action call."""
    return message_intent(((call or {}).get("tracker") or {}).get("latest_message"))


def turn_request_id(call: dict[str, Any] | None) -> Any:
    """The request id the web app put in the latest message's metadata (None when absent)."""
    tracker = (call or {}).get("tracker") or {}
    metadata = (tracker.get("latest_message") or {}).get("metadata")
    return metadata.get("request_id") if isinstance(metadata, dict) else None


class ActionMetrics:
    """The action server's metrics in their own registry (tests build several servers in one process)."""

    def __init__(self) -> None:
        """Create the counters and histograms."""
        self.registry = CollectorRegistry()
        self.actions = Counter(
            "bokji_action_calls", "Actions Rasa ran, by action and the intent of the latest message", ["action", "intent"],
            registry=self.registry,
        )  # fmt: skip
        self.answers = Counter(
            "bokji_answers", "Knowledge answers composed, by intent and answer mode", ["intent", "mode"],
            registry=self.registry,
        )  # fmt: skip
        self.stage_seconds = Histogram(
            "bokji_answer_stage_seconds", "Time of one stage of an answer: retrieval, model_first_token, total",
            ["stage"], buckets=STAGE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.model_timeouts = Counter(
            "bokji_model_timeouts", "Model answers that missed their deadline (an extract or 'cannot confirm' was sent)",
            registry=self.registry,
        )  # fmt: skip
        self.grounding_failures = Counter(
            "bokji_grounding_failures", "Model answers refused by the grounding check (numbers or names no passage holds)",
            registry=self.registry,
        )  # fmt: skip
        self.model_errors = Counter("bokji_model_errors", "Model calls that failed outright", registry=self.registry)

    def watch_query_cache(self, embeddings: Any) -> None:
        """Expose the in-process embedder's question-vector cache (hits and misses) when it has one."""
        inner = getattr(embeddings, "inner", embeddings)
        if hasattr(inner, "query_cache_hits"):
            self.registry.register(_QueryCacheCollector(inner))

    def observe(self, answer: Answer, intent: str) -> None:
        """Count one answer and time its stages from its decision record."""
        self.answers.labels(domain_name(intent), answer.mode).inc()
        decision = answer.decision
        if decision is not None:
            if decision.hits or decision.retrieve_ms:
                self.stage_seconds.labels("retrieval").observe(decision.retrieve_ms / 1000)
            if decision.first_token_ms is not None:
                self.stage_seconds.labels("model_first_token").observe(decision.first_token_ms / 1000)
            self.stage_seconds.labels("total").observe(decision.total_ms / 1000)
        match answer.fallback or (decision.fallback if decision else ""):
            case "timeout":
                self.model_timeouts.inc()
            case "ungrounded":
                self.grounding_failures.inc()
            case "model_error":
                self.model_errors.inc()

    def watch(self, events: Iterator[AnswerEvent], intent: str) -> Iterator[AnswerEvent]:
        """Pass a streamed answer's events through, observing its final answer (read in another thread)."""
        for event in events:
            if event.kind == "final" and event.answer is not None:
                self.observe(event.answer, intent)
            yield event

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class _QueryCacheCollector(Collector):
    """``bokji_query_vector_cache_total{result="hit"|"miss"}``, read from the embedder when Prometheus scrapes."""

    def __init__(self, embeddings: Any) -> None:
        self._embeddings = embeddings

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "bokji_query_vector_cache",
            "Question vectors taken from the embedder's cache (hit) or encoded (miss)",
            labels=["result"],
        )
        family.add_metric(["hit"], self._embeddings.query_cache_hits)
        family.add_metric(["miss"], self._embeddings.query_cache_misses)
        yield family


def add_observability(app: Sanic, metrics: ActionMetrics, metrics_token: str) -> None:
    """``GET /metrics`` (bearer token, else direct loopback), the request id of each call, and action calls counted.

    Call after :func:`actions.guard.add_guard`: its gate reads the action call (``request.ctx.action_call``).
    """

    async def bind(request: Request) -> None:
        call = getattr(request.ctx, "action_call", None)
        bind_request_id(request.headers.get(REQUEST_ID_HEADER) or turn_request_id(call))
        if call is not None:
            metrics.actions.labels(domain_name(call.get("next_action")), latest_intent(call)).inc()

    async def give_back(request: Request, response: BaseHTTPResponse) -> None:
        response.headers[REQUEST_ID_HEADER] = current_request_id()

    async def scrape(request: Request) -> HTTPResponse:
        if not may_scrape(metrics_token, request.headers.get("Authorization"), request.ip, request.headers.keys()):
            return json_response({"error": "not_found", "message": "no such route"}, status=404)
        return HTTPResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)

    app.register_middleware(bind, "request")
    app.register_middleware(give_back, "response")
    app.add_route(scrape, "/metrics", methods=["GET"], name="metrics")
