"""Talk to Rasa over HTTP (its REST channel), never by import."""

from __future__ import annotations

from typing import Any, Protocol

import httpx


class RasaUnavailableError(RuntimeError):
    """Rasa (or the action server behind it) did not answer."""


class DialogueEngine(Protocol):
    """What the conversation flow needs from Rasa."""

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Deliver one user message (``metadata`` reaches the actions); return the bot's messages."""
        ...


class RasaClient:
    """Rasa's REST webhook (``POST /webhooks/rest/webhook``)."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        """Create the pooled HTTP client (no request is made here)."""
        self._http = httpx.Client(base_url=base_url, timeout=timeout_s)

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Deliver a message and return Rasa's output messages."""
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        try:
            response = self._http.post("/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailableError(f"Rasa did not answer: {exc}") from exc
        if not isinstance(body, list):
            raise RasaUnavailableError(f"Rasa answered with {type(body).__name__}, expected a list")
        return body

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()


def probe(url: str, timeout_s: float = 2.0) -> bool:
    """Whether a service answers 2xx at ``url``."""
    try:
        return httpx.get(url, timeout=timeout_s).is_success
    except httpx.HTTPError:
        return False
