"""Rate limits and budgets of the web app (Flask-Limiter's storage and moving windows), checked before a view runs.

- per client address on the citizen endpoints (/api/v1/*): generous, because an office or a library shares one;
- per conversation on the chat endpoints (widget session, API session, KakaoTalk user): messages and characters
  (the analysis budget: a flood of maximal messages from one conversation waits its turn);
- per client address on staff sign-in (on top of the account lockout);
- per client address on new requests for a person (:mod:`channels.handoff_quota`);
- per client address on new citizen sessions (``POST /api/v1/widget/session``).

A widget conversation is counted under the session its signed token holds, an integration's under its API key's
name and its session id: a client cannot dodge its limits by naming another session id.

A message that signals a crisis is never limited: it always gets its helplines and its urgent handoff.
KakaoTalk's requests all come from Kakao's servers, so the skill is limited per KakaoTalk user only.
Refusals are 429 with Retry-After and a polite Korean message (JSON; a SkillResponse on the skill, with
status 200 because KakaoTalk shows nothing else to the user; the sign-in page for the sign-in form).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from werkzeug.exceptions import HTTPException

from channels.api import ApiError, parse_session_id
from channels.api_keys import ApiKeys
from channels.auth.guard import wants_json
from channels.citizen_sessions import token_session
from channels.settings import RateLimitSettings
from channels.skill_response import text_response
from knowledge.rules.crisis import detect_crisis

logger = logging.getLogger(__name__)

CITIZEN_BLUEPRINTS = ("api", "widget")
CHAT_ENDPOINTS = {"api.chat": "api", "widget.chat": "web", "kakao.skill": "kakao"}
LOGIN_ENDPOINT = "auth.login_submit"
SESSION_ENDPOINT = "widget.session"

TOO_FAST = "메시지를 너무 빠르게 보내고 있어요. {wait} 뒤에 다시 보내 주세요. 급하시면 보건복지상담센터(129)로 전화해 주세요."
TOO_MANY = "지금 이 연결에서 요청이 너무 많아요. {wait} 뒤에 다시 시도해 주세요."
LOGIN = "로그인 시도가 너무 많아요. {wait} 뒤에 다시 시도해 주세요."
SESSIONS = (
    "이 연결에서 새 대화를 너무 많이 시작했어요. {wait} 뒤에 다시 시도해 주세요. 급하시면 보건복지상담센터(129)로 전화해 주세요."
)
HANDOFFS = (
    "지금 이 연결에서 상담원 연결 요청이 너무 많이 들어왔어요. {wait} 뒤에 다시 요청해 주세요. "
    "급하시면 보건복지상담센터(129)로 전화해 주세요."
)

# What each refusal says (per-conversation limits: TOO_FAST).
REFUSALS = {"client": TOO_MANY, "login": LOGIN, "handoffs": HANDOFFS, "sessions": SESSIONS}


class RateLimitedError(Exception):
    """A limit was reached: which one, and in how many seconds to try again."""

    def __init__(self, rule: str, retry_after_s: int) -> None:
        """Keep the rule's name and the wait."""
        super().__init__(rule)
        self.rule, self.retry_after_s = rule, retry_after_s


@dataclass(frozen=True)
class ChatRequest:
    """What the limits need from a chat message: whose conversation and the text (None: not readable)."""

    conversation: str
    text: str


def client_address(proxy_hops: int) -> str:
    """The client's address: the connecting one, or the one ``proxy_hops`` trusted proxies put in X-Forwarded-For."""
    if proxy_hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= proxy_hops:
            return forwarded[-proxy_hops]
    return request.remote_addr or "unknown"


def chat_request(channel: str) -> ChatRequest | None:
    """The conversation and text of a chat body (decoded once by Flask), or None when the view will refuse it."""
    try:
        body: Any = request.get_json(silent=True, force=channel == "kakao")
    except (RecursionError, HTTPException):  # too deep, too large: the view or the input guard answers it
        return None
    if not isinstance(body, dict):
        return None
    if channel == "kakao":
        user_request = body.get("userRequest")
        user = user_request.get("user") if isinstance(user_request, dict) else None
        user_id = user.get("id") if isinstance(user, dict) else None
        utterance = user_request.get("utterance") if isinstance(user_request, dict) else None
        if not isinstance(user_id, str) or not 0 < len(user_id) <= 128:
            return None
        # A digest: the counts (in redis, perhaps) never hold a KakaoTalk user's key itself.
        digest = hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return ChatRequest(f"kakao:{digest}", utterance if isinstance(utterance, str) else "")
    text = body.get("text")
    text = text if isinstance(text, str) else ""
    if channel == "web":  # the session its token holds; no valid token: the view answers 401
        session_id = token_session(current_app.extensions["bokji.citizen_sessions"])
        return ChatRequest(f"web:{session_id}", text) if session_id else None
    keys: ApiKeys = current_app.extensions["bokji.api_keys"]
    name = keys.identify(request.headers.get("Authorization"))
    try:
        session_id = parse_session_id(body.get("session_id"))
    except ApiError:
        return None
    return ChatRequest(keys.sender(name, session_id), text) if name else None


def _wait(seconds: int) -> str:
    return f"{seconds}초" if seconds < 60 else f"{math.ceil(seconds / 60)}분"


class RateLimits:
    """The limits of one app, their counters in Flask-Limiter's storage (memory, or redis for several processes)."""

    def __init__(self, settings: RateLimitSettings, max_text_chars: int) -> None:
        """Parse the limits; the storage opens in :meth:`init_app`."""
        self.settings = settings
        self.max_text_chars = max_text_chars
        self.rules: dict[str, RateLimitItem] = {
            "client": parse(settings.per_client),
            "session": parse(settings.per_session),
            "chars": parse(settings.session_chars),
            "login": parse(settings.login),
            "sessions": parse(settings.sessions),
            "handoffs": parse(settings.handoffs),
        }
        self.limiter = Limiter(
            key_func=self.client,
            storage_uri=settings.storage_uri,
            strategy="moving-window",
            enabled=settings.enabled,
            key_prefix="bokji",
        )
        # limits' memory storage may start its expiry timer twice when two threads hit at once (RuntimeError, a 500):
        # https://github.com/alisaifee/limits/pull/352 (not in limits 5.8.0). Its calls take microseconds: one at a time.
        self._serial: AbstractContextManager[Any] = (
            threading.Lock() if settings.storage_uri.startswith("memory://") else nullcontext()
        )

    def init_app(self, app: Flask) -> None:
        """Open the storage and check every request before its view."""
        self.limiter.init_app(app)
        app.before_request(self._check)
        app.register_error_handler(RateLimitedError, self._refused)
        app.extensions["bokji.rate_limits"] = self

    def client(self) -> str:
        """This request's client address."""
        return client_address(self.settings.proxy_hops)

    def hit(self, rule: str, key: str, cost: int = 1) -> None:
        """Count ``cost`` against ``rule`` for ``key``.

        Raises:
            RateLimitedError: the rule's limit is reached (nothing is counted then).
        """
        if not self.settings.enabled:  # Flask-Limiter opens no storage then
            return
        item = self.rules[rule]
        strategy = self.limiter.limiter
        with self._serial:
            if strategy.hit(item, rule, key, cost=min(cost, item.amount)):
                return
            reset_at, _ = strategy.get_window_stats(item, rule, key)
        raise RateLimitedError(rule, max(1, math.ceil(reset_at - time.time())))

    def admits(self, rule: str, key: str) -> bool:
        """Whether one more would fit under ``rule`` for ``key`` (counts nothing)."""
        if not self.settings.enabled:
            return True
        with self._serial:
            return self.limiter.limiter.test(self.rules[rule], rule, key)

    def _check(self) -> None:
        if not self.settings.enabled or request.method == "OPTIONS":
            return
        endpoint = request.endpoint or ""
        if endpoint == LOGIN_ENDPOINT:
            self.hit("login", self.client())
            return
        if endpoint == SESSION_ENDPOINT:
            self.hit("sessions", self.client())  # on top of the per-client budget below
        channel = CHAT_ENDPOINTS.get(endpoint)
        chat = chat_request(channel) if channel else None
        if chat is not None and chat.text and detect_crisis(chat.text) is not None:
            return  # a crisis always gets its helplines and a person, whatever the counts say
        if request.blueprint in CITIZEN_BLUEPRINTS:
            self.hit("client", self.client())
        if chat is not None:
            self.hit("session", chat.conversation)
            self.hit("chars", chat.conversation, min(len(chat.text), self.max_text_chars))

    def _refused(self, refused: RateLimitedError) -> Any:
        wait = _wait(refused.retry_after_s)
        logger.warning("rate limit %s reached on %s %s", refused.rule, request.method, request.path)
        headers = {"Retry-After": str(refused.retry_after_s)}
        if request.endpoint == "kakao.skill":
            return jsonify(text_response(TOO_FAST.format(wait=wait))), 200, headers
        message = REFUSALS.get(refused.rule, TOO_FAST).format(wait=wait)
        if refused.rule == "login" and not wants_json():
            page = render_template("auth/login.html", next="", username="", error=message)
            return Response(page, 429, headers)
        return jsonify({"error": {"code": "rate_limited", "message": message}}), 429, headers
