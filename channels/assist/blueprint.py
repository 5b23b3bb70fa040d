"""The ``assist`` blueprint: ``GET /console/api/chats/<id>/assist``, the case card and suggested replies for one chat.

The card comes from the transcript (always) and Rasa's tracker (when Rasa answers); suggestions come from
the action server, which owns the knowledge base (the web app never loads the model or the store). When
either service is down the agent still gets what the transcript knows, and a Korean notice says what is missing.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.sansio.blueprints import BlueprintSetupState

from channels.assist.case_card import build_case_card, last_question
from channels.assist.client import AssistClient, AssistSources, AssistUnavailableError
from channels.auth import roles_required
from channels.handoff import WORKS_CHATS, HandoffError, HandoffService
from channels.settings import AppSettings
from channels.store.transcripts import TranscriptStore
from knowledge.rules.eligibility import Criteria

logger = logging.getLogger(__name__)

SUGGESTION_LIMIT = 3
NO_SUGGESTIONS = (
    "지금은 추천 답변을 불러올 수 없어요(답변 서버에 연결하지 못했어요). 요약 카드와 대화 기록은 그대로 보실 수 있어요."
)
NO_TRACKER = "챗봇(Rasa)에 연결하지 못해서 대화에서 확인한 값(제도, 가구원 수, 소득, 나이)은 카드에 빠져 있을 수 있어요."

bp = Blueprint("assist", __name__, url_prefix="/console/api")


@bp.record_once
def _wire(state: BlueprintSetupState) -> None:
    """One HTTP client per app and the 2026 criteria, in ``app.extensions`` (tests put fakes there)."""
    settings: AppSettings = state.app.extensions["bokji.settings"]
    client = AssistClient(
        settings.actions_url,
        settings.rasa_url,
        actions_token=settings.actions_token.get_secret_value(),
        rasa_token=settings.rasa_token.get_secret_value(),
    )
    state.app.extensions.setdefault("bokji.assist", client)
    state.app.extensions.setdefault("bokji.criteria", Criteria.load())


@bp.before_request
def _refuse_oversized() -> None:
    """413 for a request with a body over the limit, even though this GET never reads it (as the console does)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length and request.content_length > limit:
        abort(413)


@bp.get("/chats/<int:handoff_id>/assist")
@roles_required(*WORKS_CHATS)
def assist(handoff_id: int) -> tuple[Response, int] | Response:
    """The case card, the citizen's last question and replies the agent may insert and edit."""
    handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
    transcripts: TranscriptStore = current_app.extensions["bokji.transcripts"]
    sources: AssistSources = current_app.extensions["bokji.assist"]
    try:
        view = handoffs.get(handoff_id)
    except HandoffError as error:
        return jsonify({"error": {"code": error.code, "message": error.message}}), error.status
    turns = transcripts.turns(view.sender_id)
    notices: list[str] = []
    tracker: dict[str, Any] | None = None
    try:
        tracker = sources.tracker(view.sender_id)
    except AssistUnavailableError as exc:
        logger.warning("assist for chat %d: no tracker: %s", handoff_id, exc)
        notices.append(NO_TRACKER)
    question = last_question(turns)
    suggestions: list[dict[str, Any]] = []
    if question is not None:
        try:
            suggestions = sources.suggestions(question, SUGGESTION_LIMIT)
        except AssistUnavailableError as exc:
            logger.warning("assist for chat %d: no suggestions: %s", handoff_id, exc)
            notices.insert(0, NO_SUGGESTIONS)
    card = build_case_card(turns, tracker, current_app.extensions["bokji.criteria"])
    return jsonify(
        {
            "handoff_id": view.id,
            "card": card.as_json(),
            "question": question,
            "suggestions": suggestions,
            "notice": " ".join(notices) or None,
        }
    )
