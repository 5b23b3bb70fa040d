"""Ask the action server for suggested replies and Rasa for a conversation's slots, over HTTP with short timeouts."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

import httpx

from bokji.logging_setup import send_request_id

# The action server refuses requests without its shared secret in this header (actions/guard.py).
ACTIONS_TOKEN_HEADER = "X-Bokji-Actions-Token"


class AssistUnavailableError(RuntimeError):
    """The action server or Rasa did not answer (in time, or with what was expected)."""


class AssistSources(Protocol):
    """Where the console's agent assist gets what the transcript does not hold."""

    def suggestions(self, text: str, limit: int) -> list[dict[str, Any]]:
        """Replies from the knowledge base for a (masked) question, best first."""
        ...

    def tracker(self, sender_id: str) -> dict[str, Any]:
        """Rasa's tracker of one conversation (``slots``, ``events``)."""
        ...


class AssistClient:
    """The action server's ``POST /assist/suggestions`` and Rasa's ``GET /conversations/<id>/tracker`` (``--enable-api``)."""

    def __init__(
        self,
        actions_url: str,
        rasa_url: str,
        timeout_s: float = 3.0,
        transport: httpx.BaseTransport | None = None,
        *,
        actions_token: str = "",
        rasa_token: str = "",
    ) -> None:
        """Create the pooled HTTP clients (no request is made here); an agent waits at most ``timeout_s`` per service.

        The action server's secret goes in its header, Rasa's auth token in the ``token`` query parameter (the
        only way Rasa 3.6 reads it). ``transport`` replaces the network (tests).
        """
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0))
        headers = {ACTIONS_TOKEN_HEADER: actions_token} if actions_token else None
        params = {"token": rasa_token} if rasa_token else None
        self._actions = httpx.Client(
            base_url=actions_url, timeout=timeout, transport=transport, headers=headers,
            event_hooks={"request": [send_request_id]},
        )  # fmt: skip
        self._rasa = httpx.Client(base_url=rasa_url, timeout=timeout, transport=transport, params=params)

    def suggestions(self, text: str, limit: int) -> list[dict[str, Any]]:
        """Suggested replies with their sources.

        Raises:
            AssistUnavailableError: the action server is down, slow, or answered something else.
        """
        body = self._json(self._actions, "POST", "/assist/suggestions", {"text": text, "limit": limit})
        found = body.get("suggestions")
        if not isinstance(found, list):
            raise AssistUnavailableError("the action server answered without a suggestions list")
        return [s for s in found if isinstance(s, dict) and isinstance(s.get("text"), str)]

    def tracker(self, sender_id: str) -> dict[str, Any]:
        """The conversation's tracker (Rasa makes an empty one for a conversation it never saw).

        Raises:
            AssistUnavailableError: Rasa is down, slow, or was started without ``--enable-api``.
        """
        return self._json(self._rasa, "GET", f"/conversations/{quote(sender_id, safe='')}/tracker", None)

    @staticmethod
    def _json(http: httpx.Client, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = http.request(method, path, json=body)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # The exception's text would hold the URL, and with it Rasa's token: name the service and status only.
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
            raise AssistUnavailableError(f"{method} {path.split('/')[1]} failed: {status}") from exc
        if not isinstance(data, dict):
            raise AssistUnavailableError(f"{method} {path.split('/')[1]} answered {type(data).__name__}, expected an object")
        return data

    def close(self) -> None:
        """Close pooled connections."""
        self._actions.close()
        self._rasa.close()
