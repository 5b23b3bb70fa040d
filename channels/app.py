"""Flask app factory: long-lived clients live in ``app.extensions``."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

from flask import Flask

from channels import admin, api, assist, console, kakao, web, widget
from channels.admin.faqs import FaqService
from channels.admin.publisher import Publisher
from channels.answer_streams import ActionServerStreams, AnswerStreamSource
from channels.api_keys import ApiKeys, parse_api_keys
from channels.auth import init_auth
from channels.citizen_sessions import CitizenSessions
from channels.conversation import STREAM_ABANDONED
from channels.handoff_quota import MeteredHandoffService
from channels.input_guard import init_input_guard
from channels.kakao_delivery import CallbackPoster, KakaoDelivery
from channels.metrics import MeteredConversation, WebMetrics, init_metrics
from channels.privacy import CitizenData, SenderIds, TrackerEvents
from channels.privacy.legacy_ids import refile_legacy_kakao
from channels.rasa_client import DialogueEngine, RasaClient
from channels.rate_limits import RateLimits
from channels.security import init_security_headers
from channels.settings import AppSettings
from channels.store.database import Database
from channels.store.transcripts import TranscriptStore
from knowledge.ingestion.seed_files import load_helplines
from knowledge.retrieval.store_health import StoreHealth


def create_app(
    settings: AppSettings | None = None,
    engine: DialogueEngine | None = None,
    callback_poster: CallbackPoster | None = None,
    streams: AnswerStreamSource | None = None,
    publisher: Publisher | None = None,
) -> Flask:
    """Build the web app; ``engine``, ``callback_poster`` and ``streams`` replace Rasa, Kakao's callbacks and the action server (tests)."""
    settings = settings or AppSettings()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_AS_ASCII=False,
        BOKJI_MAX_TEXT_CHARS=settings.max_text_chars,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    database = Database(settings.database())
    database.upgrade()  # zero set-up on SQLite; on PostgreSQL `bokji db upgrade` may run it ahead of a rollout
    transcripts = TranscriptStore(database)
    limits = RateLimits(settings.rate_limit, settings.max_text_chars)  # per client, per conversation; never a crisis
    handoffs = MeteredHandoffService(database, transcripts, settings.handoff, limits)  # new requests per client
    # Answers this process's predecessor was streaming when it stopped will never be completed by anyone, nor will
    # those of a replica that died long ago; the live answers of other replicas on the same database are left alone.
    writer = f"{socket.gethostname()}:{settings.web_port}"
    abandoned_after = timedelta(seconds=max(600.0, 4 * settings.widget.stream_timeout_s))
    transcripts.close_abandoned_streams(STREAM_ABANDONED, writer, datetime.now(timezone.utc) - abandoned_after)
    engine = engine or RasaClient(settings.rasa_url, settings.rasa_timeout_s)
    if settings.widget.streaming and streams is None:
        streams = ActionServerStreams(
            settings.actions_url, settings.widget.stream_timeout_s, settings.actions_token.get_secret_value()
        )
    # Turns counted by channel and answer mode, Rasa timed (GET /metrics); the request id reaches Rasa's metadata.
    web_metrics = WebMetrics(handoffs, settings.process_restarts_file)
    conversation = MeteredConversation(
        web_metrics,
        engine,
        transcripts,
        load_helplines(settings.knowledge.helplines),
        streams if settings.widget.streaming else None,
        settings.widget.stream_timeout_s,
        handoffs,
        writer=writer,
    )
    app.extensions["bokji.settings"] = settings
    app.extensions["bokji.api_keys"] = ApiKeys(parse_api_keys(settings.api_keys.get_secret_value()))  # /api/v1/chat
    app.extensions["bokji.store_health"] = StoreHealth(settings.knowledge.store)  # /healthz counts documents through it
    init_metrics(app, web_metrics)  # /metrics (bearer or loopback) and X-Request-ID, first of the request hooks
    app.extensions["bokji.database"] = database
    app.extensions["bokji.transcripts"] = transcripts
    app.extensions["bokji.handoffs"] = handoffs
    app.extensions["bokji.conversation"] = conversation
    # The knowledge admin; the publisher loads the embedding model on the first publish, not here (``publisher``: a fake in tests).
    publisher = publisher or Publisher.from_settings(settings.knowledge)
    app.extensions["bokji.publisher"] = publisher
    app.extensions["bokji.faqs"] = FaqService(database, publisher, settings.admin, handoffs.record)
    # Kakao users are filed under a keyed hash of their botUserKey, never the key itself (channels/privacy/).
    sender_ids = SenderIds.from_settings(settings.privacy, settings.data_dir)
    kakao_delivery = KakaoDelivery(conversation, settings.kakao, database, callback_poster, sender_ids=sender_ids, writer=writer)
    app.extensions["bokji.kakao"] = kakao_delivery
    kakao_delivery.close_abandoned()  # Kakao answers this process's predecessor was computing: closed with an apology
    # One citizen's conversation exported or erased on request; its rows in Rasa's tracker store go too (a real Rasa only).
    trackers = TrackerEvents(settings.tracker_database()) if isinstance(engine, RasaClient) else None
    refile_legacy_kakao(database, sender_ids, trackers)  # conversations kept under a raw KakaoTalk key, from before
    app.extensions["bokji.citizen_data"] = CitizenData(database, trackers, kakao_delivery.forget)
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(kakao.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(assist.bp)  # case card and suggested replies for agents
    app.register_blueprint(admin.bp)  # the welfare teams' knowledge admin
    # Staff sign-in; after the citizen blueprints, which it exempts from CSRF.
    init_auth(app, database, settings.console, settings.data_dir)
    # Citizen session tokens: signed with the app's secret key under their own salt (channels/citizen_sessions.py).
    app.extensions["bokji.citizen_sessions"] = CitizenSessions(str(app.secret_key), settings.widget.session_ttl_s)
    init_input_guard(app)  # hostile JSON (lone surrogates, deep nesting, huge numbers): a 400 before any view
    limits.init_app(app)
    init_security_headers(app)  # CSP, nosniff, no framing, Referrer-Policy, no-store on conversation data
    return app
