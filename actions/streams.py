"""Answers the model is still writing, streamed to the web app while Rasa's turn has already ended.

Rasa's REST webhook returns a turn's messages only when its actions are done, so a generated
answer cannot stream through it. For a channel that asks to stream (message metadata
``{"stream": true}``), :class:`~actions.answer.ActionAnswerWelfare` hands the rest of the answer
to :class:`AnswerStreams` and replies at once with ``{"stream": "<id>"}``; the web app then reads
``GET /streams/<id>`` on this server: one JSON object per line, ``delta`` / ``reset`` (checked text,
see :class:`knowledge.answering.chain.AnswerEvent`) and a last ``final`` (the message as Rasa would have sent
it) or ``error``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from actions.render import answer_message
from knowledge.answering.chain import AnswerEvent
from knowledge.answering.streaming import EventLog, produce_in_background

logger = logging.getLogger(__name__)

WireEvent = dict[str, Any]
_POLL_S = 0.05


def wire_event(event: AnswerEvent) -> WireEvent:
    """An answer event as the web app reads it (the final answer as the message Rasa would have sent)."""
    if event.kind == "final" and event.answer is not None:
        return {"event": "final", **answer_message(event.answer)}
    if event.kind == "delta":
        return {"event": "delta", "text": event.text}
    return {"event": event.kind}


def _failed(exc: BaseException) -> WireEvent:
    logger.error("a streamed answer failed: %s", exc, exc_info=exc)
    return {"event": "error"}


class AnswerStreams:
    """Answers being written, by unguessable id, kept ``keep_s`` after they end for late readers."""

    def __init__(self, keep_s: float = 120.0, max_open: int = 32) -> None:
        """Set how long finished answers stay readable and how many may be written at once."""
        self.keep_s = keep_s
        self.max_open = max_open
        self._logs: dict[str, EventLog[WireEvent]] = {}
        self._lock = threading.Lock()

    def start(self, events: Iterator[AnswerEvent]) -> str | None:
        """Write the rest of an answer in the background; its stream id, or None when too many are open."""
        with self._lock:
            self._expire()
            if sum(not log.closed for log in self._logs.values()) >= self.max_open:
                return None
            stream_id = secrets.token_urlsafe(16)
            log: EventLog[WireEvent] = EventLog()
            self._logs[stream_id] = log
        wired = (wire_event(e) for e in events if e.kind != "generating")
        produce_in_background(wired, log, _failed, name=f"answer-{stream_id[:6]}")
        return stream_id

    def has_room(self) -> bool:
        """Whether another answer may stream now (a full house answers whole, within the channel's budget)."""
        with self._lock:
            self._expire()
            return sum(not log.closed for log in self._logs.values()) < self.max_open

    def get(self, stream_id: str) -> EventLog[WireEvent] | None:
        """The events of a stream, or None if it never existed or expired."""
        with self._lock:
            self._expire()
            return self._logs.get(stream_id)

    def _expire(self) -> None:
        now = time.monotonic()
        for stream_id in [i for i, log in self._logs.items() if log.closed_at is not None and now - log.closed_at > self.keep_s]:
            del self._logs[stream_id]


def add_stream_route(app: Sanic, streams: AnswerStreams, idle_timeout_s: float) -> None:
    """Serve ``GET /streams/<id>`` (NDJSON) on the action server's app."""

    async def read_stream(request: Request, stream_id: str) -> HTTPResponse | None:
        log = streams.get(stream_id)
        if log is None:
            return json_response({"error": "unknown_stream", "message": "no such answer stream (or it expired)"}, status=404)
        response = await request.respond(content_type="application/x-ndjson", headers={"Cache-Control": "no-cache"})
        seen, idle_since = 0, time.monotonic()
        while True:
            events, closed = log.wait(seen, 0)
            for event in events:
                # ASCII escapes: a U+2028 in an answer must not split the line for the reader.
                await response.send(json.dumps(event) + "\n")
            seen += len(events)
            if closed:  # the snapshot was taken closed: nothing follows what was just sent
                break
            if events:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > idle_timeout_s:
                await response.send(json.dumps({"event": "error"}) + "\n")
                break
            else:
                await asyncio.sleep(_POLL_S)  # the writer is a thread: poll rather than block the event loop
        await response.eof()
        return None

    app.add_route(read_stream, "/streams/<stream_id:str>", methods=["GET"], name="answer_stream")
