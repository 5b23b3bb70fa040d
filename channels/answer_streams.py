"""Read an answer the model is still writing from the action server (``GET /streams/<id>``, NDJSON).

See :mod:`actions.streams` for the other side. The web app reads over HTTP, never by import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

import httpx


class StreamUnavailableError(RuntimeError):
    """The stream could not be read (unknown or expired id, action server down, broken line)."""


class AnswerStreamSource(Protocol):
    """Where the events of a streamed answer come from."""

    def events(self, stream_id: str) -> Iterator[dict[str, Any]]:
        """The stream's events (``delta``, ``reset``, then ``final`` or ``error``) as they come."""
        ...


class ActionServerStreams:
    """The action server's ``/streams/<id>`` endpoint."""

    def __init__(self, base_url: str, timeout_s: float, token: str = "") -> None:
        """Create the pooled HTTP client (no request is made here); ``timeout_s`` bounds the wait for each line.

        ``token`` is the action server's shared secret, sent in the X-Bokji-Actions-Token header.
        """
        headers = {"X-Bokji-Actions-Token": token} if token else None
        self._http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=3.0), headers=headers)

    def events(self, stream_id: str) -> Iterator[dict[str, Any]]:
        """Yield each event as its line arrives.

        Raises:
            StreamUnavailableError: the stream is unknown or the connection failed.
        """
        try:
            with self._http.stream("GET", f"/streams/{stream_id}") as response:
                if response.status_code == 404:
                    raise StreamUnavailableError(f"unknown or expired answer stream {stream_id[:6]}...")
                response.raise_for_status()
                for line in response.iter_lines():
                    if line.strip():
                        event = json.loads(line)
                        if not isinstance(event, dict):
                            raise StreamUnavailableError(f"answer stream sent {type(event).__name__}, expected an object")
                        yield event
        except (httpx.HTTPError, ValueError) as exc:
            raise StreamUnavailableError(f"answer stream failed: {exc}") from exc

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()
