"""Ask the action server what the bot would answer (``POST /assist/explain``), with short timeouts."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from bokji.logging_setup import send_request_id
from channels.assist.client import ACTIONS_TOKEN_HEADER


class ExplainUnavailableError(RuntimeError):
    """The action server did not answer (in time, or with what was expected)."""


class AnswerExplainer(Protocol):
    """Where the test box gets the bot's answer and its decision (tests put a fake in ``app.extensions``)."""

    def explain(self, question: str) -> dict[str, Any]:
        """The answer, its mode, the hits, the thresholds and the decision record for a (masked) question."""
        ...


class ExplainClient:
    """The action server's ``POST /assist/explain`` over a pooled HTTP client."""

    def __init__(
        self, actions_url: str, timeout_s: float = 8.0, transport: httpx.BaseTransport | None = None, *, token: str = ""
    ) -> None:
        """Create the client (no request is made here); ``token`` is the action server's shared secret.

        The wait is short but covers a cold start of the embedding model on the first question after a restart.
        ``transport`` replaces the network (tests).
        """
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0))
        headers = {ACTIONS_TOKEN_HEADER: token} if token else None
        self._http = httpx.Client(
            base_url=actions_url, timeout=timeout, transport=transport, headers=headers,
            event_hooks={"request": [send_request_id]},
        )  # fmt: skip

    def explain(self, question: str) -> dict[str, Any]:
        """The action server's explanation.

        Raises:
            ExplainUnavailableError: the action server is down, slow, too old to know the route, or answered something else.
        """
        try:
            response = self._http.post("/assist/explain", json={"question": question})
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ExplainUnavailableError(f"POST /assist/explain failed: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("answer"), dict) or not isinstance(data.get("hits"), list):
            raise ExplainUnavailableError("the action server answered without an answer and hits")
        return data

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()
