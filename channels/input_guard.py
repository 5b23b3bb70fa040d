r"""Hostile JSON bodies stopped at the door with a clear 400, before any view, store or log sees them.

A JSON body may decode to things no endpoint can handle: lone surrogates (``"\ud800"`` is valid JSON
but cannot be stored as UTF-8), nesting thousands deep (the decoder and every recursive walk over it
run out of stack), and integers beyond 64 bits (SQLite and PostgreSQL refuse them). None of our
endpoints needs any of these, so a request with one is refused as a whole, once, here: with the API's
Korean JSON error, or on the KakaoTalk skill with a SkillResponse that KakaoTalk shows to the user.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from channels.api import ApiError
from channels.skill_response import text_response

logger = logging.getLogger(__name__)

# Deeper than any payload we accept (a Kakao SkillPayload is about 5 levels) and far below the stack limit.
MAX_DEPTH = 32
INT_LIMIT = 2**63
KAKAO_PATH = "/kakao/skill"
_SURROGATE = re.compile("[\ud800-\udfff]")

NESTED = "요청 형식이 올바르지 않아요. 너무 깊게 중첩된 JSON은 받을 수 없어요."
SURROGATE = "보내신 글에 처리할 수 없는 문자가 있어요. 글을 다시 입력해 주세요."
BIG_NUMBER = "숫자가 너무 커요. 올바른 값을 보내 주세요."
KAKAO_REFUSED = "보내신 메시지를 읽지 못했어요. 글을 다시 입력해 보내 주세요."


class HostileInputError(ApiError):
    """A body no endpoint can process (400 with a Korean message)."""


def check_value(value: Any) -> None:
    """Raise :class:`HostileInputError` if ``value`` (decoded JSON) nests too deep, holds a lone surrogate or a huge integer.

    Iterative, so a deep value cannot exhaust the stack here either.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise HostileInputError(400, "too_deep", NESTED)
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise HostileInputError(400, "invalid_characters", SURROGATE)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -INT_LIMIT <= item < INT_LIMIT:
                raise HostileInputError(400, "number_too_large", BIG_NUMBER)
        elif isinstance(item, dict):
            pending.extend((key, depth + 1) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


def decoded_body() -> Any:
    """The request's JSON, decoded once (Flask keeps it for the view); None when it is not JSON."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise HostileInputError(400, "too_deep", NESTED) from None


def _guard() -> Response | tuple[Response, int] | None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not request.content_length:
        return None
    kakao = request.path == KAKAO_PATH or request.path.startswith(KAKAO_PATH + "/")
    if not (request.is_json or kakao):
        return None
    try:
        check_value(_kakao_body() if kakao else decoded_body())
    except HostileInputError as refused:
        # Logged once, without the body: what was wrong and where.
        logger.warning("refused %s %s: %s", request.method, request.path, refused.code)
        if kakao:
            return jsonify(text_response(KAKAO_REFUSED)), 200  # KakaoTalk shows a SkillResponse only with a 200
        raise
    return None


def _kakao_body() -> Any:
    """Kakao's body, whatever its Content-Type says (the skill view reads the raw bytes itself)."""
    try:
        return json.loads(request.get_data(cache=True))
    except RecursionError:
        raise HostileInputError(400, "too_deep", NESTED) from None
    except (ValueError, UnicodeDecodeError, RequestEntityTooLarge):
        return None  # the view answers these with its own SkillResponse


def init_input_guard(app: Flask) -> None:
    """Check every JSON body before the view runs."""
    app.before_request(_guard)
