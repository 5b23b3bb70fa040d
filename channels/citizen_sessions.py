"""Server-issued citizen sessions: the widget's conversation belongs to whoever holds its signed token.

``POST /api/v1/widget/session`` issues a random session id (no identifier in it) and a token that signs it
with the app's secret key under its own salt (a staff cookie can never pass for a citizen token, nor the
reverse). Every widget endpoint reads the conversation from the token (``X-Bokji-Session`` header; the
``token`` query parameter on the events stream, which EventSource cannot give headers), so knowing someone's
session id is not enough to read, rate or continue their conversation. Tokens expire ``ttl_s`` after they
were issued: the server checks the signature's timestamp, nothing is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from channels.api import ApiError, parse_session_id

HEADER = "X-Bokji-Session"
QUERY = "token"
SALT = "bokji.citizen-session"
MAX_TOKEN_CHARS = 512

REQUIRED = "대화 정보가 없어요. 페이지를 새로 고친 뒤 다시 시도해 주세요."
INVALID = "대화 정보를 확인할 수 없어요. 페이지를 새로 고치면 새 대화를 시작할 수 있어요."
EXPIRED = "대화를 시작한 지 오래되어 이전 대화가 끝났어요. 페이지를 새로 고치면 새 대화를 시작할 수 있어요."
MISMATCH = "다른 분의 대화는 보거나 이어서 쓸 수 없어요."


@dataclass(frozen=True)
class IssuedSession:
    """A new conversation: its public id, the token that proves holding it, and seconds until it expires."""

    session_id: str
    token: str
    expires_in: int

    def as_json(self) -> dict[str, Any]:
        """The body of ``POST /api/v1/widget/session``."""
        return {"session_id": self.session_id, "token": self.token, "expires_in": self.expires_in}


class CitizenSessions:
    """Issues and checks signed citizen session tokens (stateless: the signature and its timestamp are the record)."""

    def __init__(self, secret: bytes | str, ttl_s: int) -> None:
        """Sign with ``secret`` under this module's salt; tokens older than ``ttl_s`` seconds are refused."""
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.ttl_s = ttl_s

    def issue(self) -> IssuedSession:
        """A new random session (144 bits, URL-safe, matching the session id pattern) and its token."""
        session_id = secrets.token_urlsafe(18)
        return IssuedSession(session_id, self.token_for(session_id), self.ttl_s)

    def token_for(self, session_id: str) -> str:
        """The signed token of ``session_id``, valid for ``ttl_s`` from now."""
        return str(self._serializer.dumps(session_id))

    def verify(self, token: Any) -> str:
        """The session id a token was issued for.

        Raises:
            ApiError: 401 ``session_expired`` for a token past its lifetime, ``invalid_session`` for anything else.
        """
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            raise ApiError(401, "invalid_session", INVALID)
        try:
            session_id = self._serializer.loads(token, max_age=self.ttl_s)
        except SignatureExpired:
            raise ApiError(401, "session_expired", EXPIRED) from None
        except (BadData, UnicodeError, ValueError):
            raise ApiError(401, "invalid_session", INVALID) from None
        try:
            return parse_session_id(session_id)
        except ApiError:
            raise ApiError(401, "invalid_session", INVALID) from None


def held_session(claimed: Any = None, *, query_token: bool = False) -> str:
    """The session this request's token holds; a ``session_id`` sent as well must be the same one.

    ``query_token``: the token may come as ``?token=`` (the events stream only).

    Raises:
        ApiError: 401 without a valid token, 400 for a malformed ``session_id``, 403 ``session_mismatch``
            when it names another conversation.
    """
    token = request.headers.get(HEADER) or (request.args.get(QUERY) if query_token else None)
    if not token:
        raise ApiError(401, "session_required", REQUIRED)
    sessions: CitizenSessions = current_app.extensions["bokji.citizen_sessions"]
    session_id = sessions.verify(token)
    if claimed is not None and parse_session_id(claimed) != session_id:
        raise ApiError(403, "session_mismatch", MISMATCH)
    return session_id


def token_session(sessions: CitizenSessions) -> str | None:
    """The session of this request's header token, or None when it has no valid one (the view then refuses it)."""
    try:
        return sessions.verify(request.headers.get(HEADER))
    except ApiError:
        return None
