"""The action server: build the knowledge service once, register the actions, serve rasa-sdk's API."""

from __future__ import annotations

import logging

from rasa_sdk import Action
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions.answer import ActionAnswerWelfare
from actions.assist import add_assist_route
from actions.eligibility import (
    ActionAskProgram,
    ActionCheckEligibility,
    ActionExplainApplication,
    ActionResetEligibility,
    ValidateEligibilityForm,
)
from actions.explain import add_explain_route
from actions.guard import add_guard
from actions.handoff import ActionCrisisSupport, ActionRequestHuman
from actions.metrics import ActionMetrics, add_observability
from actions.settings import ActionServerSettings
from actions.streams import AnswerStreams, add_stream_route
from bokji.logging_setup import configure_logging
from knowledge.answering.service import KnowledgeService
from knowledge.backends import build_service
from knowledge.rules.eligibility import Criteria

logger = logging.getLogger(__name__)


def build_actions(
    service: KnowledgeService,
    streams: AnswerStreams | None = None,
    metrics: ActionMetrics | None = None,
    answer_budget_s: float | None = None,
) -> list[Action]:
    """Every custom action of domain.yml, wired to the shared service (answer streams, metrics and budget, if any)."""
    return [
        ActionAnswerWelfare(service, streams, metrics, answer_budget_s),
        ActionRequestHuman(service.helplines),
        ActionCrisisSupport(service.helplines),
        ValidateEligibilityForm(),
        ActionCheckEligibility(service, Criteria.load()),
        ActionExplainApplication(service),
        ActionResetEligibility(),
        ActionAskProgram(),
    ]


def build_app(service: KnowledgeService, settings: ActionServerSettings) -> Sanic:
    """rasa-sdk's Sanic app (/webhook, /health, /actions) with our actions, /streams/<id>, /assist/*, /metrics."""
    streams = AnswerStreams(keep_s=settings.stream_keep_s, max_open=settings.stream_max_open)
    metrics = ActionMetrics()
    metrics.watch_query_cache(service.retriever.embeddings)
    executor = ActionExecutor()
    for action in build_actions(service, streams, metrics, settings.answer_budget_s):
        executor.register_action(action)
    app = create_app(executor)
    add_guard(app, settings.actions_token.get_secret_value())  # the shared secret; errors without their text
    add_observability(app, metrics, settings.metrics_token.get_secret_value())  # /metrics; each call's request id
    add_stream_route(app, streams, settings.stream_idle_timeout_s)
    add_assist_route(app, service)
    add_explain_route(app, service)  # the knowledge admin's "what would the bot answer?"
    return app


def main() -> None:
    """Run the action server in one process (models load once; Kiwi must never cross a fork)."""
    settings = ActionServerSettings()
    configure_logging("actions", settings.log_format, settings.log_level)  # masked; JSON lines carry the request id
    if not settings.actions_token.get_secret_value():
        raise SystemExit(
            "BOKJI_ACTIONS_TOKEN is empty: the action server runs actions for anyone who reaches it. "
            "Set the same secret here and for Rasa and the web app (`bokji run` makes one for you)."
        )
    service = build_service(settings.knowledge)
    count = service.store.count()
    if count == 0:
        logger.warning("the knowledge store is empty: run `make setup` (or `bokji ingest`)")
    service.warm_up()  # load the analyzer, embeddings and model before traffic arrives
    logger.info("knowledge ready: %d documents", count)
    app = build_app(service, settings)
    app.run(
        host=settings.actions_host,
        port=settings.actions_port,
        single_process=True,
        access_log=False,
        motd=False,
    )
