"""Kakao i Open Builder Event API: the paid way (15 KRW a message) for a bot to speak first.

``POST {base}/v2/bots/{botId}/talk`` with ``Authorization: KakaoAK {REST API key}`` and
``{"event": {"name": ..., "data": {...}}, "user": [{"type": "botUserKey", "id": ..., "properties": {}}]}``
(Kakao's chatbot guide, 주요 개념 > Event API; a development channel's botId ends with ``!``). Kakao answers
``{"taskId": ..., "status": ...}`` and delivers asynchronously: the block whose event name matches is sent to
the user, and it shows ``data.text``. Used only when ``BOKJI_KAKAO__EVENT_API`` is on (off by default).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from channels.privacy.sender_ids import SenderIds
from channels.settings import KakaoSettings
from channels.store.database import Database
from channels.store.models import KakaoRecipient

logger = logging.getLogger(__name__)

# How long a botUserKey is kept after the user's last message (a handoff is answered well within a day).
RECIPIENT_TTL_S = 24 * 3600.0
# Kakao's user id types; the skill request's userRequest.user.id is a botUserKey (our sender id is its keyed hash).
USER_TYPE = "botUserKey"


def event_request(settings: KakaoSettings, user_id: str, text: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL, headers and JSON body of one Event API call that sends ``text`` to one user."""
    url = f"{settings.event_api_url.rstrip('/')}/v2/bots/{quote(settings.bot_id, safe='!')}/talk"
    headers = {"Authorization": f"KakaoAK {settings.rest_api_key.get_secret_value()}", "Content-Type": "application/json"}
    body = {
        "event": {"name": settings.event_name, "data": {"text": text}},
        "user": [{"type": USER_TYPE, "id": user_id, "properties": {}}],
    }
    return url, headers, body


class Recipients:
    """The raw botUserKey of users who wrote recently, sealed in the shared database: the Event API needs it to push.

    Sender ids are keyed hashes (channels/privacy/sender_ids.py); the botUserKey is stored only encrypted with a
    key derived from the same id key (every web replica has it), so any replica can push a staff reply written
    on it, and a database dump alone does not reveal it. A push to a user not seen within ``ttl_s`` is not
    possible; the staff message then waits for their next message, as it does without the Event API.
    """

    def __init__(self, database: Database, sender_ids: SenderIds, ttl_s: float) -> None:
        """Forget a user ``ttl_s`` seconds after their last message."""
        self._database = database
        self._sender_ids = sender_ids
        self._ttl = timedelta(seconds=ttl_s)

    def remember(self, sender: str, bot_user_key: str) -> None:
        """Keep ``sender``'s botUserKey for the next ``ttl_s`` seconds (and drop expired ones)."""
        now = datetime.now(timezone.utc)
        values = {"sealed_key": self._sender_ids.seal(bot_user_key), "expires_at": now + self._ttl}
        try:
            with self._database.session() as session:
                session.execute(delete(KakaoRecipient).where(KakaoRecipient.expires_at < now))
                changed = session.execute(
                    update(KakaoRecipient).where(KakaoRecipient.sender_id == sender).values(**values)
                ).rowcount  # type: ignore[attr-defined]
                if not changed:
                    session.add(KakaoRecipient(sender_id=sender, **values))
        except IntegrityError:
            pass  # another replica recorded the same user at the same moment

    def get(self, sender: str) -> str | None:
        """The botUserKey behind ``sender``, if they wrote recently."""
        with self._database.session() as session:
            row = session.get(KakaoRecipient, sender)
            sealed = row.sealed_key if row is not None and row.expires_at >= datetime.now(timezone.utc) else None
        return self._sender_ids.unseal(sealed) if sealed else None

    def forget(self, sender: str) -> None:
        """Drop ``sender`` (their conversation was deleted)."""
        with self._database.session() as session:
            session.execute(delete(KakaoRecipient).where(KakaoRecipient.sender_id == sender))


class EventApi:
    """Sends Event API requests with httpx (the client is built here; no request is made until ``send``)."""

    def __init__(self, settings: KakaoSettings, transport: httpx.BaseTransport | None = None) -> None:
        """Keep the settings; ``transport`` replaces the network in tests."""
        self._settings = settings
        self._http = httpx.Client(timeout=settings.event_timeout_s, transport=transport)

    def send(self, user_id: str, text: str) -> bool:
        """One message to one user; True when Kakao accepted the task. Failures are logged, never raised."""
        url, headers, body = event_request(self._settings, user_id, text)
        try:
            response = self._http.post(url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            logger.warning("kakao event api failed: %s", exc)
            return False
        try:
            result = response.json()
        except ValueError:
            result = {}
        task = result.get("taskId") if isinstance(result, dict) else None
        status = str(result.get("status", "")) if isinstance(result, dict) else ""
        if not response.is_success or not task or status.upper() == "FAIL":
            logger.warning("kakao event api answered %d: %s", response.status_code, response.text[:200])
            return False
        logger.info("kakao event api accepted task %s (%s)", task, status)
        return True

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()
