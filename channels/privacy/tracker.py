"""Erase one conversation from Rasa's tracker store (its slots and every message it remembers).

Rasa keeps trackers in memory by default (they are gone when Rasa restarts); the web app empties one through
Rasa's HTTP API, ``PUT /conversations/<id>/tracker/events`` with no events, which replaces the stored
tracker. With ``--auth-token`` (``BOKJI_RASA_TOKEN``) the token goes along as ``?token=``.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

logger = logging.getLogger(__name__)


class RasaTrackers:
    """Empties Rasa trackers (no request is made until :meth:`erase`)."""

    def __init__(self, rasa_url: str, token: str = "", timeout_s: float = 5.0) -> None:
        """Rasa's base URL and its auth token ("" when Rasa runs without one)."""
        self._url = rasa_url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    def erase(self, sender_id: str) -> bool:
        """Replace ``sender_id``'s tracker with an empty one; False (logged) when Rasa could not be reached."""
        url = f"{self._url}/conversations/{quote(sender_id, safe=':')}/tracker/events"
        params = {"token": self._token} if self._token else None
        try:
            response = httpx.put(url, json=[], params=params, timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            logger.warning("privacy: Rasa's tracker of a deleted conversation was not erased: %s", exc)
            return False
        if not response.is_success:
            logger.warning("privacy: Rasa refused to erase a tracker (%d)", response.status_code)
        return response.is_success
