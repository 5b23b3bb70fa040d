"""Kakao i Open Builder Event API: the paid way (15 KRW a message) for a bot to speak first.

``POST {base}/v2/bots/{botId}/talk`` with ``Authorization: KakaoAK {REST API key}`` and
``{"event": {"name": ..., "data": {...}}, "user": [{"type": "botUserKey", "id": ..., "properties": {}}]}``
(Kakao's chatbot guide, 주요 개념 > Event API; a development channel's botId ends with ``!``). Kakao answers
``{"taskId": ..., "status": ...}`` and delivers asynchronously: the block whose event name matches is sent to
the user, and it shows ``data.text``. Used only when ``BOKJI_KAKAO__EVENT_API`` is on (off by default).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from channels.settings import KakaoSettings

logger = logging.getLogger(__name__)

# Kakao's user id types; the skill request's userRequest.user.id (our Kakao sender id) is a botUserKey.
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
