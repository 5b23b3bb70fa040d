"""KakaoTalk channel: the Kakao i Open Builder skill endpoint ``POST /kakao/skill``.

Parse Kakao's SkillPayload, hand the text to the shared conversation (through ``KakaoDelivery``, which keeps
Kakao's 5-second limit), render a SkillResponse. Every answer, errors included, is a valid SkillResponse.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from channels.kakao_delivery import KakaoDelivery
from channels.settings import AppSettings
from channels.skill_response import FETCH_LABEL, text_response

logger = logging.getLogger(__name__)

bp = Blueprint("kakao", __name__)

TOKEN_HEADER = "X-Bokji-Kakao-Token"
_USER_ID = re.compile(r"^[A-Za-z0-9_.:=+/-]{1,128}$")

MALFORMED = "요청을 이해하지 못했어요. 잠시 후 다시 보내 주세요."
EMPTY = "메시지가 비어 있어요. 궁금한 복지 제도를 글로 적어 보내 주세요."
TOO_BIG = "보내신 내용이 너무 커요. 메시지를 짧게 나누어 보내 주세요."
NOT_ALLOWED = "허용되지 않은 요청이에요."
NOT_CONFIGURED = "카카오톡 상담이 아직 준비되지 않았어요. 잠시 후 다시 이용해 주세요."
FAILED = "죄송해요. 일시적인 오류가 있었어요. 잠시 후 다시 보내 주세요."


class SkillRequestError(ValueError):
    """A request that cannot be answered; the message is what the KakaoTalk user reads."""


@dataclass(frozen=True)
class SkillRequest:
    """What the conversation needs from a SkillPayload."""

    user_id: str
    text: str | None
    """The citizen's words (or a quick reply's payload); None when they tapped 답변 보기."""
    callback_url: str | None = None
    label: str | None = None
    """What the citizen saw when ``text`` is a quick reply's payload."""


def _too_long(max_chars: int) -> str:
    return f"메시지가 너무 길어요. {max_chars:,}자 이내로 나누어 보내 주세요."


def parse_skill_request(body: Any, max_chars: int) -> SkillRequest:
    """Read ``userRequest`` (user id, utterance, callbackUrl) and ``action.clientExtra`` from a SkillPayload."""
    user_request = body.get("userRequest") if isinstance(body, dict) else None
    user = user_request.get("user") if isinstance(user_request, dict) else None
    if not isinstance(user_request, dict) or not isinstance(user, dict):
        raise SkillRequestError(MALFORMED)
    user_id = user.get("id")
    if not isinstance(user_id, str) or not _USER_ID.match(user_id):
        raise SkillRequestError(MALFORMED)
    utterance = user_request.get("utterance")
    if not isinstance(utterance, str):
        raise SkillRequestError(MALFORMED)
    callback_url = user_request.get("callbackUrl")
    callback = callback_url if isinstance(callback_url, str) and callback_url else None
    action = body.get("action")
    extra = action.get("clientExtra") if isinstance(action, dict) else None
    extra = extra if isinstance(extra, dict) else {}
    if extra.get("bokji") == "fetch" or utterance.strip() == FETCH_LABEL:
        return SkillRequest(user_id, None, callback)
    payload = extra.get("payload")
    from_button = isinstance(payload, str) and bool(payload.strip())
    text = (str(payload) if from_button else utterance).strip()
    if not text:
        raise SkillRequestError(EMPTY)
    if len(text) > max_chars:
        raise SkillRequestError(_too_long(max_chars))
    label = utterance.strip()[:max_chars] if from_button and utterance.strip() else None
    return SkillRequest(user_id, text, callback, label)


def _reply(body: dict[str, Any], status: int = 200) -> tuple[Response, int]:
    return jsonify(body), status


def _authorized(settings: AppSettings, path_token: str | None) -> int | None:
    """None when the request carries the configured secret, else the HTTP status to refuse it with."""
    expected = settings.kakao.token.get_secret_value()
    if not expected:
        return 403
    given = path_token or request.headers.get(TOKEN_HEADER, "")
    return None if hmac.compare_digest(given.encode(), expected.encode()) else 401


@bp.post("/kakao/skill")
@bp.post("/kakao/skill/<path_token>")
def skill(path_token: str | None = None) -> tuple[Response, int]:
    """One KakaoTalk message in, one SkillResponse out, always within Kakao's 5 seconds."""
    received = time.monotonic()
    settings: AppSettings = current_app.extensions["bokji.settings"]
    refused = _authorized(settings, path_token)
    if refused is not None:
        logger.warning("kakao: refused a request without the configured token (%d)", refused)
        return _reply(text_response(NOT_CONFIGURED if refused == 403 else NOT_ALLOWED), refused)
    try:
        raw = request.get_data(cache=False)
        body = json.loads(raw)
        parsed = parse_skill_request(body, settings.max_text_chars)
    except RequestEntityTooLarge:
        return _reply(text_response(TOO_BIG))
    except (ValueError, UnicodeDecodeError) as exc:
        message = str(exc) if isinstance(exc, SkillRequestError) else MALFORMED
        return _reply(text_response(message))
    delivery: KakaoDelivery = current_app.extensions["bokji.kakao"]
    try:
        return _reply(delivery.respond(parsed.user_id, parsed.text, parsed.callback_url, received, parsed.label))
    except Exception:
        logger.exception("kakao: failed to answer")
        return _reply(text_response(FAILED))


@bp.get("/kakao/health")
def health() -> tuple[Response, int]:
    """Whether the skill endpoint is configured (never reveals the token)."""
    configured = bool(current_app.extensions["bokji.settings"].kakao.token.get_secret_value())
    return jsonify({"kakao": "configured" if configured else "not_configured"}), 200
