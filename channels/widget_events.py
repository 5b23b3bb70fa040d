"""The widget's live side of a handoff: what a waiting citizen's page hears, and their typing pings.

While a chat waits for or is with a person, the widget listens to ``GET /api/v1/widget/events`` (server-sent
events through :mod:`channels.live`). Each batch of ``chat_events`` becomes ``message`` events for the
turns the page cannot know about (the agent's replies and the notices written when the agent acts) and one
``state`` event: ``bot``, ``waiting`` or ``with_agent``, and whether the agent is typing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from channels.handoff import HandoffService
from channels.live import follow, sse
from channels.store.transcripts import TranscriptStore

RenderTurn = Callable[[dict[str, Any]], dict[str, Any]]


def shown_live(turn: dict[str, Any]) -> bool:
    """A turn the widget gets from the stream: the agent's replies and the bot's handoff notices.

    The citizen's own messages and the bot's answers reach the page through the chat reply already.
    """
    return turn["role"] == "agent" or (turn["role"] == "bot" and turn["meta"].get("mode") == "handoff")


def state_of(handoffs: HandoffService, sender_id: str) -> dict[str, Any]:
    """Where the conversation stands for the citizen: who answers now, and whether the agent is typing."""
    view = handoffs.active(sender_id)
    if view is None:
        return {"state": "bot", "agent_typing": False}
    return {"state": view.state, "agent_typing": view.agent_typing and view.state == "with_agent"}


class WidgetEvents:
    """The server-sent events of one widget session, resuming after ``after_event`` and ``after_turn``."""

    def __init__(self, handoffs: HandoffService, transcripts: TranscriptStore, sender_id: str, render: RenderTurn) -> None:
        """Read the handoff state and transcript of ``sender_id``; ``render`` draws a turn as history does."""
        self.handoffs = handoffs
        self.transcripts = transcripts
        self.sender_id = sender_id
        self.render = render

    def stream(self, after_event: int, after_turn: int, lifetime_s: float) -> Iterator[str]:
        """Turns after ``after_turn`` and the state now, then every change as it happens, for ``lifetime_s``."""
        cursor = {"turn": after_turn}

        def batch(event_id: int) -> Iterator[str]:
            for turn in self.transcripts.turns_after(self.sender_id, cursor["turn"]):
                cursor["turn"] = turn["id"]
                if shown_live(turn):
                    yield sse("message", self.render(turn), event_id)
            yield sse("state", state_of(self.handoffs, self.sender_id), event_id)

        def render(rows: list[dict[str, Any]]) -> Iterator[str]:
            yield from batch(rows[-1]["id"])

        yield from batch(after_event)  # what happened while the page was not listening
        yield from follow(self.handoffs, render, sender_id=self.sender_id, after=after_event, lifetime_s=lifetime_s)


class TypingThrottle:
    """At most one typing ping per session every ``interval_s`` reaches the database (the rest are dropped)."""

    def __init__(self, interval_s: float = 2.0, max_sessions: int = 10_000) -> None:
        """Remember each session's last ping; forget old ones when more than ``max_sessions`` are kept."""
        self.interval_s = interval_s
        self.max_sessions = max_sessions
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """True when this ping should be recorded."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                return False
            if len(self._last) >= self.max_sessions:
                self._last = {k: t for k, t in self._last.items() if now - t < self.interval_s}
                if len(self._last) >= self.max_sessions:  # a flood of sessions: dropping pings is harmless
                    return False
            self._last[key] = now
            return True
