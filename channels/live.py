"""Live updates to browsers: server-sent events, one mechanism for the widget and the staff console.

Every change to a conversation writes a ``chat_events`` row in the same transaction (channels/handoff.py,
channels/store/transcripts.py). A stream polls for rows newer than the last id it sent, so it works the
same with one web process or several behind a proxy, and a reconnecting browser resumes from
``Last-Event-ID`` without losing anything. Each stream ends after ``lifetime_s`` (the browser's
EventSource reconnects by itself) so a waitress thread is never held for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, request

from channels.handoff import HandoffService

POLL_S = 0.4
HEARTBEAT_S = 15.0
LIFETIME_S = 55.0


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event (data as one JSON line)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def last_event_id(default: int) -> int:
    """Where a reconnecting browser left off (``Last-Event-ID`` header or ``?after=``), else ``default``."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after")
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 0 else default


def follow(
    handoffs: HandoffService,
    render: Callable[[list[dict[str, Any]]], Iterator[str]],
    *,
    sender_id: str | None = None,
    after: int | None = None,
    lifetime_s: float = LIFETIME_S,
    poll_s: float = POLL_S,
    on_tick: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Yield rendered events as ``chat_events`` rows appear (of one conversation, or all of them).

    ``render`` turns a batch of new event rows into SSE strings (each should carry the batch's last id);
    ``on_tick`` runs about once a second (presence, SLA checks).
    """
    cursor = handoffs.last_event_id() if after is None else after
    started = last_beat = last_tick = time.monotonic()
    yield "retry: 1500\n\n"
    while time.monotonic() - started < lifetime_s:
        rows = handoffs.events_after(cursor, sender_id)
        if rows:
            cursor = rows[-1]["id"]
            yield from render(rows)
            last_beat = time.monotonic()
        now = time.monotonic()
        if now - last_beat >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_beat = now
        if on_tick is not None and now - last_tick >= 1.0:
            on_tick()
            last_tick = now
        time.sleep(poll_s)


def stream_response(lines: Iterator[str]) -> Response:
    """An SSE response a reverse proxy passes through unbuffered."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(lines, mimetype="text/event-stream", headers=headers)
