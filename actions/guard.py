"""The action server's gate: a shared secret on every route but ``/health``, and errors as JSON without their text.

Rasa sends the secret with each action call as the ``X-Bokji-Actions-Token`` header (``headers:`` of
``action_endpoint`` in bot/endpoints.yml); the web app's clients send the same header. Rasa's own ``token:``
option (a ``?token=`` query parameter) is accepted too. rasa-sdk answers a body it cannot run with a 500
that quotes the exception and echoes the request body; here such a body gets a 400 before any action runs,
and an unexpected error a 500 that says nothing about the request.
"""

from __future__ import annotations

import hmac
import json
import logging
import traceback
import zlib
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse
from sanic.response import json as json_response

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Bokji-Actions-Token"
OPEN_PATHS = frozenset({"/health", "/metrics"})  # /metrics checks its own bearer token (actions/metrics.py)
# A tracker of a long conversation is a few hundred KB; an action call beyond this is not one of Rasa's.
MAX_BODY_BYTES = 4 * 1024 * 1024
_TRACKER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "slots": dict,
    "latest_message": (dict, type(None)),
    "events": list,
    "active_loop": (dict, type(None)),
}


def refusal(status: int, code: str, message: str) -> HTTPResponse:
    """The JSON shape of every error this server answers."""
    return json_response({"error": code, "message": message}, status=status)


def authorized(request: Request, token: str) -> bool:
    """Whether the request carries the shared secret (compared in constant time)."""
    given = request.headers.get(TOKEN_HEADER) or request.args.get("token") or ""
    return hmac.compare_digest(given.encode(), token.encode())


def action_call_problem(body: bytes, encoding: str | None) -> str | None:
    """Why a ``/webhook`` body is not an action call rasa-sdk can run, or None when it is."""
    return read_action_call(body, encoding)[1]


def read_action_call(body: bytes, encoding: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """A ``/webhook`` body as the action call it holds, or None and why it is not one rasa-sdk can run."""
    if encoding == "deflate":
        try:
            inflater = zlib.decompressobj()
            body = inflater.decompress(body, MAX_BODY_BYTES)
            if inflater.unconsumed_tail:
                return None, "the inflated body is too large"
        except zlib.error:
            return None, "the body is not deflate data"
    try:
        call = json.loads(body or b"null")
    except (ValueError, RecursionError):
        return None, "the body is not JSON"
    if not isinstance(call, dict):
        return None, "expected a JSON object"
    return call, _call_problem(call)


def _call_problem(call: dict[str, Any]) -> str | None:
    tracker = call.get("tracker")
    if not isinstance(call.get("next_action"), str) or not isinstance(tracker, dict):
        return '"next_action" (a string) and "tracker" (an object) are required'
    if not isinstance(tracker.get("sender_id"), str):
        return '"tracker.sender_id" must be a string'
    wrong = [name for name, kind in _TRACKER_FIELDS.items() if name in tracker and not isinstance(tracker[name], kind)]
    if wrong:
        return f"tracker fields of the wrong type: {', '.join(wrong)}"
    if "domain" in call and not isinstance(call["domain"], dict):
        return '"domain" must be an object'
    return None


def add_guard(app: Sanic, token: str) -> None:
    """Require ``token`` on every route but /health (none when empty: unit tests) and answer errors without their text."""
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    async def gate(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or request.method == "OPTIONS":
            return None
        if token and not authorized(request, token):
            logger.warning("refused %s %s without the shared secret", request.method, request.path)
            return refusal(401, "unauthorized", f"send the action server's secret in the {TOKEN_HEADER} header")
        if request.path == "/webhook" and request.method == "POST":
            request.ctx.action_call, problem = read_action_call(request.body, request.headers.get("Content-Encoding"))
            if problem is not None:
                logger.warning("refused an action call: %s", problem)
                return refusal(400, "bad_action_call", problem)
        return None

    async def failed(request: Request, exc: Exception) -> HTTPResponse:
        if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
            return refusal(exc.status_code, "bad_request", _client_error(exc.status_code))
        # Logged once, by type, route and frames: an exception's text may quote the conversation.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.error("%s %s failed: %s\n%s", request.method, request.path, type(exc).__name__, frames)
        return refusal(500, "internal_error", "the action server could not handle the request")

    app.register_middleware(gate, "request")
    # rasa-sdk registered a handler for Exception that quotes it and echoes the body; Sanic refuses a second one.
    app.error_handler = ErrorHandler()
    app.error_handler.add(Exception, failed)


def _client_error(status: int) -> str:
    return {
        404: "no such route",
        405: "method not allowed on this route",
        413: f"the request body is larger than {MAX_BODY_BYTES} bytes",
    }.get(status, "the request could not be read")
