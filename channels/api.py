"""The chat API every channel and test uses, and the health report."""

from __future__ import annotations

import re
import traceback
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from channels.conversation import Conversation
from channels.http_errors import error_code, korean_message
from channels.rasa_client import probe

if TYPE_CHECKING:  # channels.api_keys raises this module's ApiError
    from channels.api_keys import ApiKeys

bp = Blueprint("api", __name__)

_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class ApiError(Exception):
    """A client error with a stable code and a message a citizen can read."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep status, code and the Korean message."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON shape of every API error."""
    return jsonify({"error": {"code": code, "message": message}}), status


def parse_session_id(value: Any) -> str:
    """A widget or API session id: 1-128 characters of letters, digits and ``_ . : -``."""
    if not isinstance(value, str) or not _SESSION_ID.match(value):
        raise ApiError(400, "invalid_session_id", "session_id는 영문, 숫자, _ . : - 로 된 1~128자 문자열이어야 해요.")
    return value


def json_body() -> Any:
    """The request's JSON body, or a clear 4xx."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Content-Type: application/json 으로 보내 주세요.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "invalid_json", "요청 형식이 올바르지 않아요. 올바른 JSON으로 보내 주세요.")
    return body


def parse_chat(body: Any, max_chars: int) -> tuple[str, str]:
    """Validate a chat request body; returns the session id and the stripped text."""
    if isinstance(body, dict) and "session_id" not in body:
        missing = [name for name in ("session_id", "text") if name not in body]
        raise ApiError(400, "missing_field", f"필수 항목이 빠졌어요: {', '.join(missing)}")
    text = parse_text(body, max_chars)
    return parse_session_id(body["session_id"]), text


def parse_text(body: Any, max_chars: int) -> str:
    """The stripped ``text`` of a chat request body, or a clear 400."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "요청 형식이 올바르지 않아요. JSON 객체로 보내 주세요.")
    if "text" not in body:
        raise ApiError(400, "missing_field", "필수 항목이 빠졌어요: text")
    text = body["text"]
    if not isinstance(text, str):
        raise ApiError(400, "invalid_text", "text는 문자열이어야 해요.")
    text = text.strip()
    if not text:
        raise ApiError(400, "empty_text", "메시지가 비어 있어요. 궁금한 내용을 입력해 주세요.")
    if len(text) > max_chars:
        raise ApiError(400, "text_too_long", f"메시지가 너무 길어요. {max_chars:,}자 이내로 나누어 보내 주세요.")
    return text


@bp.post("/api/v1/chat")
def chat() -> tuple[Response, int]:
    """One message from an integration (``Authorization: Bearer <API key>``) in, the bot's messages out.

    The ``session_id`` is the integration's own; its conversation is ``api:<key name>:<session_id>``.
    """
    keys: ApiKeys = current_app.extensions["bokji.api_keys"]
    name = keys.require()
    session_id, text = parse_chat(json_body(), current_app.config["BOKJI_MAX_TEXT_CHARS"])
    conversation: Conversation = current_app.extensions["bokji.conversation"]
    reply = conversation.handle(keys.sender(name, session_id), text)
    payload = {"session_id": session_id, "messages": [m.as_json() for m in reply.messages]}
    # A dependency down still gives the citizen an answer to show (an apology with 129): 200, marked degraded.
    return jsonify({**payload, "degraded": reply.degraded}), 200


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Each dependency up or down; 200 only when all are up."""
    settings = current_app.extensions["bokji.settings"]
    documents = current_app.extensions["bokji.store_health"].documents()  # the embedded file or Weaviate, as configured
    deps = {
        "rasa": "up" if probe(f"{settings.rasa_url}/") else "down",
        "actions": "up" if probe(f"{settings.actions_url}/health") else "down",
        "store": "up" if documents else "down",
    }
    if (warm_up := current_app.extensions.get("bokji.warm_up")) is not None:
        deps["warm"] = "up" if warm_up.warm else "down"  # ready means a first real turn has gone through
    healthy = all(v == "up" for v in deps.values())
    body = {"status": "ok" if healthy else "degraded", "dependencies": deps, "documents": documents or 0}
    return jsonify(body), 200 if healthy else 503


@bp.app_errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    return error_response(exc.status, exc.code, exc.message)


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    """Werkzeug's errors in Korean (its descriptions are English), keeping headers such as Allow and Retry-After."""
    status = exc.code or 500
    response, _ = error_response(status, error_code(status, exc.name), korean_message(status))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


@bp.app_errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[Response, int]:
    # Once, by type, route and frames: the exception's text (and SQL parameters) may quote the citizen's message.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    kind = type(exc).__name__
    # A database driver's error code ("SQLITE_BUSY", PostgreSQL's SQLSTATE) says what failed without quoting data.
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "pgcode", None)
    if code:
        kind = f"{kind} ({code})"
    current_app.logger.error("unhandled %s in %s %s\n%s", kind, request.method, request.path, frames)
    return error_response(500, "internal_error", korean_message(500))
