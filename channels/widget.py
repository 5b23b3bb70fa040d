"""The website widget's adapter: the embed script, chat with message ids, history, ratings and live handoff updates.

A city page embeds the widget with one tag, ``<script src="https://<this server>/widget.js" defer></script>``.
The widget talks to the endpoints below; the conversation flow itself lives in ``channels.conversation``.
It first asks for a session (``POST /api/v1/widget/session``) and sends its token on every call
(``channels.citizen_sessions``): the conversation is always the token's, whatever session id a request names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory
from flask.blueprints import BlueprintSetupState

from channels.api import ApiError, json_body, parse_text
from channels.citizen_sessions import HEADER, CitizenSessions, held_session
from channels.conversation import BotMessage, ChatReply, Conversation
from channels.handoff import HandoffService
from channels.live import LIFETIME_S, last_event_id, stream_response
from channels.quick_replies import offered_label
from channels.settings import AppSettings
from channels.store.transcripts import TranscriptStore
from channels.widget_events import TypingThrottle, WidgetEvents, state_of

bp = Blueprint("widget", __name__)

STATIC = Path(__file__).resolve().parent / "static"
RATINGS = ("up", "down")
MAX_LABEL_CHARS = 200
# What the citizen sees next to a staff member's reply (staff names stay inside the office).
AGENT_LABEL = "상담원"
# How long one events stream lasts before the browser's EventSource reconnects (tests shorten it).
EVENTS_LIFETIME_S = LIFETIME_S
# A citizen's typing pings recorded at most this often per session.
TYPING_INTERVAL_S = 2.0


@bp.record_once
def _typing_throttle(state: BlueprintSetupState) -> None:
    state.app.extensions["bokji.widget_typing"] = TypingThrottle(TYPING_INTERVAL_S)


def web_sender(session_id: str) -> str:
    """The Rasa sender id of a widget session, so turns and forms carry over between messages."""
    return f"web:{session_id}"


def render_message(message: BotMessage, feedback: str | None = None) -> dict[str, Any]:
    """A bot message as the widget draws it: the API shape plus its id, handoff flag and rating.

    ``streaming`` marks a generated answer still being written: its text follows as stream lines.
    ``handoff_state`` is set on the notices of a handoff (waiting, with_agent, returned, closed, cancelled).
    """
    return {
        "id": message.turn_id,
        "role": "bot",
        **message.as_json(),
        "handoff": message.handoff is not None,
        "handoff_state": message.meta.get("handoff_state"),
        "feedback": feedback,
        "streaming": message.stream_id is not None,
    }


def stream_lines(session_id: str, reply: ChatReply, idle_timeout_s: float) -> Iterator[str]:
    """A reply as NDJSON: the messages first, then each streamed answer's ``delta``/``reset`` lines and its ``final`` message.

    A stream that goes quiet ends the response without ``final``; the widget then offers to retry
    (the transcript still gets the answer, or the apology, from the background reader).
    """
    head = {"type": "reply", "session_id": session_id, "degraded": reply.degraded}
    yield _line({**head, "messages": [render_message(m) for m in reply.messages]})
    for turn_id, updates in reply.streams.items():
        try:
            for update in updates.follow(idle_timeout_s):
                if update.kind == "final" and update.message is not None:
                    yield _line(
                        {"type": "final", "id": turn_id, "degraded": update.degraded, "message": render_message(update.message)}
                    )
                else:
                    yield _line({"type": update.kind, "id": turn_id, "text": update.text})
        except TimeoutError:
            return


def _line(value: dict[str, Any]) -> str:
    # Characters some line readers treat as line breaks are escaped, so one object is always one line.
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085") + "\n"


def render_turn(turn: dict[str, Any]) -> dict[str, Any]:
    """A transcript turn for the history view and live updates; citizen and agent turns carry only their text."""
    if turn["role"] == "bot":
        return {**render_message(BotMessage.from_record(turn), turn.get("feedback")), "created_at": turn["created_at"]}
    if turn["role"] == "agent":
        return {"id": turn["id"], "role": "agent", "agent": AGENT_LABEL, "text": turn["text"], "created_at": turn["created_at"]}
    text = turn["meta"].get("label") or turn["text"]
    return {"id": turn["id"], "role": "citizen", "text": text, "created_at": turn["created_at"]}


@bp.get("/widget.js")
def script() -> Response:
    """The embeddable widget (vanilla JavaScript, no build step, no third-party requests)."""
    response = send_from_directory(STATIC, "widget.js", max_age=300)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response


@bp.post("/api/v1/widget/session")
def session() -> tuple[Response, int]:
    """A new conversation: ``{"session_id", "token", "expires_in"}``; the token goes in ``X-Bokji-Session`` from now on.

    Limited per client address (``BOKJI_RATE_LIMIT__SESSIONS``), so nobody mints sessions by the thousand.
    """
    sessions: CitizenSessions = current_app.extensions["bokji.citizen_sessions"]
    return jsonify(sessions.issue().as_json()), 201


@bp.post("/api/v1/widget/chat")
def chat() -> tuple[Response, int]:
    """One message from the widget; like ``/api/v1/chat`` but each answer carries the id ratings refer to.

    When ``text`` is the payload of a button the bot offered, the history shows that button's title; the
    ``label`` a client may send is only checked for shape (a forged one never reaches the transcript).
    With ``"stream": true`` the reply is NDJSON (:func:`stream_lines`) and a generated answer arrives
    sentence by sentence, each sentence already held to the grounding check.
    """
    body = json_body()
    text = parse_text(body, current_app.config["BOKJI_MAX_TEXT_CHARS"])
    session_id = held_session(body.get("session_id"))
    label = body.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL_CHARS):
        raise ApiError(400, "invalid_label", f"label은 {MAX_LABEL_CHARS}자 이내의 문자열이어야 해요.")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "invalid_stream", "stream은 true 또는 false여야 해요.")
    conversation: Conversation = current_app.extensions["bokji.conversation"]
    transcripts: TranscriptStore = current_app.extensions["bokji.transcripts"]
    sender = web_sender(session_id)
    reply = conversation.handle(sender, text, offered_label(transcripts, sender, text), stream=stream)
    status = 200  # a dependency down still gives an answer to show (the apology with 129), marked degraded
    if stream:
        settings: AppSettings = current_app.extensions["bokji.settings"]
        lines = stream_lines(session_id, reply, settings.widget.stream_timeout_s)
        # no-cache and X-Accel-Buffering: a reverse proxy must pass each line on as it comes.
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return Response(lines, mimetype="application/x-ndjson", headers=headers), status
    body = {"session_id": session_id, "degraded": reply.degraded, "messages": [render_message(m) for m in reply.messages]}
    return jsonify(body), status


@bp.get("/api/v1/history")
def history() -> tuple[Response, int]:
    """The latest turns of a widget session, so a reloaded page shows the conversation again.

    ``handoff_state`` (bot, waiting, with_agent) tells a reloaded widget to listen for a person's replies.
    """
    session_id = held_session(request.args.get("session_id"))
    settings: AppSettings = current_app.extensions["bokji.settings"]
    transcripts: TranscriptStore = current_app.extensions["bokji.transcripts"]
    handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
    turns = transcripts.recent_turns(web_sender(session_id), settings.widget.history_limit)
    state = state_of(handoffs, web_sender(session_id))["state"]
    return jsonify({"session_id": session_id, "messages": [render_turn(t) for t in turns], "handoff_state": state}), 200


@bp.get("/api/v1/widget/events")
def events() -> Response:
    """Server-sent events while a person is asked for or answering: their replies, notices, state and typing.

    ``after_turn`` is the newest turn id the page shows (default: the newest there is); a reconnecting
    EventSource resumes after its ``Last-Event-ID``. The stream ends after about a minute and the browser
    reconnects by itself. The session token comes as ``?token=`` (EventSource cannot send headers).
    """
    session_id = held_session(request.args.get("session_id"), query_token=True)
    sender = web_sender(session_id)
    transcripts: TranscriptStore = current_app.extensions["bokji.transcripts"]
    handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
    raw = request.args.get("after_turn")
    if raw is None:
        latest = transcripts.recent_turns(sender, 1)
        after_turn = latest[0]["id"] if latest else 0
    elif raw.isascii() and raw.isdigit() and len(raw) <= 18:
        after_turn = int(raw)
    else:
        raise ApiError(400, "invalid_after_turn", "after_turn은 0 이상의 정수(메시지 번호)여야 해요.")
    after_event = last_event_id(handoffs.last_event_id())
    lines = WidgetEvents(handoffs, transcripts, sender, render_turn).stream(after_event, after_turn, EVENTS_LIFETIME_S)
    return stream_response(lines)


@bp.post("/api/v1/widget/typing")
def typing() -> Response:
    """The citizen is typing in a chat a person holds (the console shows it for a few seconds); always 204."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "요청 형식이 올바르지 않아요. JSON 객체로 보내 주세요.")
    session_id = held_session(body.get("session_id"))
    throttle: TypingThrottle = current_app.extensions["bokji.widget_typing"]
    if throttle.allow(session_id):
        handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
        handoffs.citizen_typing(web_sender(session_id))
    return Response(status=204)


@bp.post("/api/v1/feedback")
def feedback() -> tuple[Response, int]:
    """A thumbs up or down on one answer, kept with the transcript (the latest rating counts)."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "요청 형식이 올바르지 않아요. JSON 객체로 보내 주세요.")
    session_id = held_session(body.get("session_id"))
    message_id, rating = body.get("message_id"), body.get("rating")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1:
        raise ApiError(400, "invalid_message_id", "message_id는 답변의 번호(양의 정수)여야 해요.")
    if rating not in RATINGS:
        raise ApiError(400, "invalid_rating", "rating은 'up' 또는 'down'이어야 해요.")
    transcripts: TranscriptStore = current_app.extensions["bokji.transcripts"]
    if not transcripts.set_feedback(web_sender(session_id), message_id, str(rating)):
        raise ApiError(404, "unknown_message", "평가하려는 답변을 찾을 수 없어요.")
    return jsonify({"session_id": session_id, "message_id": message_id, "rating": rating}), 200


@bp.after_app_request
def _allow_embedding_origins(response: Response) -> Response:
    """CORS for city pages on another host that embed the widget (only the configured origins)."""
    origin = request.headers.get("Origin")
    if not origin or not request.path.startswith("/api/v1/"):
        return response
    allowed = current_app.extensions["bokji.settings"].widget.allowed_origins
    if "*" in allowed or origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        # Last-Event-ID: an EventSource reconnecting from a city page's origin sends it.
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, Last-Event-ID, {HEADER}"
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    return response
