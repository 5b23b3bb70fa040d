"""Prometheus metrics of the web app (``GET /metrics``): turns, Rasa latency, the handoff queue, process restarts.

Labels hold only fixed vocabularies (channel, answer mode, process name), never a citizen's text or id.
``/metrics`` is not public (bokji/metrics_access.py: a bearer token, or direct loopback requests only).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bokji.logging_setup import REQUEST_ID_HEADER, bind_request_id, clear_request_id, current_request_id
from bokji.metrics_access import may_scrape
from channels.conversation import ChatReply, Conversation
from channels.handoff import HandoffService, channel_of
from channels.rasa_client import DialogueEngine

logger = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

# What a turn's reply was, as its first bot message's meta says (faq = a curated FAQ answer as written).
MODES = frozenset({"faq", "extractive", "generated", "none", "handoff", "unavailable"})
# Rasa round trips: a FAQ answer takes tens of milliseconds, a generated one seconds (timeout 20 s by default).
RASA_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)


def turn_mode(reply: ChatReply) -> str:
    """The label of a turn: how the bot answered it (``crisis``, ``dialogue`` for Rasa's own responses, ``with_agent``)."""
    if not reply.messages:
        return "with_agent"  # a person has the chat: the bot stays silent
    metas = [m.meta for m in reply.messages]
    if any(meta.get("crisis") for meta in metas):
        return "crisis"
    if reply.degraded:
        return "unavailable"
    mode = next((str(meta["mode"]) for meta in metas if meta.get("mode")), "dialogue")
    return mode if mode in MODES else "dialogue"


class RestartCounts(Collector):
    """``bokji_process_restarts_total{process}``: the supervisor's JSON file ``{name: count}``, read at scrape time."""

    def __init__(self, path: Path | None) -> None:
        """``path``: the file ``bokji run`` keeps (None: no supervisor, nothing reported)."""
        self.path = path

    def collect(self) -> Iterator[Metric]:
        """One sample per process the supervisor has restarted (or started)."""
        family = CounterMetricFamily(
            "bokji_process_restarts", "Times the supervisor restarted a process after it died", labels=["process"]
        )
        for name, count in self._counts().items():
            family.add_metric([name], count)
        yield family

    def _counts(self) -> dict[str, float]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("restart counts unreadable at %s: %s", self.path, exc)
            return {}
        if not isinstance(raw, dict):
            return {}
        return {
            str(k)[:40]: float(v) for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
        }


class HandoffQueue(Collector):
    """``bokji_handoffs_waiting`` and ``bokji_handoff_oldest_wait_seconds``, counted in the database at scrape time."""

    def __init__(self, handoffs: HandoffService) -> None:
        """Read the queue through the handoff state machine's own module."""
        self.handoffs = handoffs

    def collect(self) -> Iterator[Metric]:
        """Two gauges: chats waiting for a person, and how long the oldest has waited (0 when none)."""
        count, oldest = self.handoffs.waiting_now()
        age = max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds()) if oldest else 0.0
        yield GaugeMetricFamily("bokji_handoffs_waiting", "Chats waiting for a person now", value=count)
        yield GaugeMetricFamily("bokji_handoff_oldest_wait_seconds", "How long the chat waiting longest has waited", value=age)


class WebMetrics:
    """The web app's metrics in their own registry (a test may build several apps in one process)."""

    def __init__(self, handoffs: HandoffService, restarts_file: Path | None = None) -> None:
        """Create the counters and register the collectors read at scrape time."""
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "bokji_turns", "Citizen messages answered, by channel and how the bot answered", ["channel", "mode"],
            registry=self.registry,
        )  # fmt: skip
        self.rasa_seconds = Histogram(
            "bokji_rasa_seconds", "Round trip of one message to Rasa, its actions included", buckets=RASA_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.rasa_failures = Counter("bokji_rasa_failures", "Messages Rasa did not answer", registry=self.registry)
        self.registry.register(HandoffQueue(handoffs))
        self.registry.register(RestartCounts(restarts_file))

    def count_turn(self, sender_id: str, reply: ChatReply) -> None:
        """One citizen message answered on the sender's channel (web, kakao or api)."""
        self.turns.labels(channel_of(sender_id), turn_mode(reply)).inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class MeteredEngine:
    """Rasa timed, with the turn's request id added to the message metadata (Rasa hands it to the actions)."""

    def __init__(self, engine: DialogueEngine, metrics: WebMetrics) -> None:
        """Wrap ``engine``."""
        self._engine = engine
        self._metrics = metrics

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Deliver the message, timing the round trip."""
        if request_id := current_request_id():
            metadata = {**(metadata or {}), "request_id": request_id}
        start = time.perf_counter()
        try:
            return self._engine.send(sender_id, text, metadata)
        except Exception:
            self._metrics.rasa_failures.inc()
            raise
        finally:
            self._metrics.rasa_seconds.observe(time.perf_counter() - start)


class MeteredConversation(Conversation):
    """The shared conversation flow, with Rasa timed and each answered citizen message counted."""

    def __init__(self, metrics: WebMetrics, engine: DialogueEngine, *args: Any, **kwargs: Any) -> None:
        """``metrics`` first, then :class:`Conversation`'s own arguments."""
        super().__init__(MeteredEngine(engine, metrics), *args, **kwargs)
        self.metrics = metrics

    def handle(self, sender_id: str, text: str, label: str | None = None, *, stream: bool = False) -> ChatReply:
        """Answer as :class:`Conversation` does, then count the turn."""
        reply = super().handle(sender_id, text, label, stream=stream)
        self.metrics.count_turn(sender_id, reply)
        return reply


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus's scrape; 404 for anyone else, so the endpoint does not advertise itself."""
    token = current_app.extensions["bokji.settings"].metrics_token.get_secret_value()
    if not may_scrape(token, request.headers.get("Authorization"), request.remote_addr, request.headers.keys()):
        return Response(json.dumps({"error": "not_found"}), status=404, mimetype="application/json")
    web_metrics: WebMetrics = current_app.extensions["bokji.metrics"]
    return Response(web_metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)


def _take_request_id() -> None:
    g.request_id = bind_request_id(request.headers.get(REQUEST_ID_HEADER))


def _give_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or current_request_id()
    return response


def _drop_request_id(_exc: BaseException | None) -> None:
    # waitress reuses its threads: a line logged there later must not carry this request's id.
    clear_request_id()


def init_metrics(app: Flask, web_metrics: WebMetrics) -> None:
    """Register /metrics and the request id (taken from ``X-Request-ID`` when valid, else made; echoed back)."""
    app.extensions["bokji.metrics"] = web_metrics
    app.register_blueprint(bp)
    app.before_request(_take_request_id)
    app.after_request(_give_request_id)
    app.teardown_request(_drop_request_id)
