"""The console's live stream (server-sent events through channels/live.py).

``queue`` events carry the whole queue whenever a conversation changes (typing alone does not reorder it);
``chat`` events carry what is new in the chat the agent has open (``?chat=<handoff id>``): turns after the
last one sent, the handoff's state and typing flags, and the notes. Event ids are ``chat_events`` ids, so a
reconnecting browser resumes with ``Last-Event-ID`` (or ``?after=``) and ``?turn=<last turn id it has>``.
While the stream is open it keeps the agent's presence fresh (on duty) and flags overdue urgent chats.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, request, stream_with_context

from channels.auth import AccountService, current_session_token_hash, roles_required
from channels.console.chats import queue_payload, services
from channels.console.transcript import render_turn
from channels.handoff import WORKS_CHATS, HandoffError, HandoffService, HandoffView
from channels.live import LIFETIME_S, follow, last_event_id, sse, stream_response
from channels.store.transcripts import TranscriptStore

bp = Blueprint("events", __name__)

LIFETIME_CONFIG = "BOKJI_CONSOLE_STREAM_S"  # tests shorten a stream's life through app.config
TOUCH_EVERY_S = 10.0  # presence (AccountService.touch) while the stream is open


class SignedOutError(Exception):
    """The browser's sign-in ended while its stream was open (signed out, disabled, expired)."""


class ChatFeed:
    """What is new in one open chat since the last ``chat`` event (turns by id, and answers still being written)."""

    def __init__(self, handoffs: HandoffService, transcripts: TranscriptStore, view: HandoffView, after_turn: int) -> None:
        """Follow the conversation of ``view``, starting after turn ``after_turn``."""
        self.handoffs, self.transcripts, self.view = handoffs, transcripts, view
        self.cursor = after_turn
        self.pending: set[int] = set()  # placeholders of streamed answers: sent again once complete

    def update(self) -> dict[str, Any]:
        """The handoff now, the turns the browser has not seen (or saw unfinished) and all notes."""
        start = min([self.cursor, *(p - 1 for p in self.pending)])
        turns = [render_turn(t) for t in self.transcripts.turns_after(self.view.sender_id, start)]
        turns = [t for t in turns if t["id"] > self.cursor or t["id"] in self.pending]
        for turn in turns:
            self.cursor = max(self.cursor, turn["id"])
            if turn.get("pending"):
                self.pending.add(turn["id"])
            else:
                self.pending.discard(turn["id"])
        self.view = self.handoffs.get(self.view.id)
        return {"handoff": self.view.as_json(), "turns": turns, "notes": self.handoffs.notes(self.view.id)}


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise HandoffError(400, "invalid_argument", f"{name} 값은 0 이상의 정수여야 해요.")
    return int(raw)


@bp.get("/events")
@roles_required(*WORKS_CHATS)
def events() -> Response:
    """Stream queue snapshots and the open chat's updates until the stream's lifetime ends."""
    handoffs, transcripts = services()
    chat_id = _int_arg("chat")
    view = handoffs.get(chat_id) if chat_id else None  # 404 before the stream starts
    after = last_event_id(handoffs.last_event_id())
    feed = ChatFeed(handoffs, transcripts, view, _int_arg("turn") or 0) if view is not None else None
    accounts: AccountService = current_app.extensions["bokji.accounts"]
    token_hash = current_session_token_hash()
    lifetime = float(current_app.config.get(LIFETIME_CONFIG, LIFETIME_S))

    touched = [0.0]

    def on_tick() -> None:
        if time.monotonic() - touched[0] >= TOUCH_EVERY_S:
            touched[0] = time.monotonic()
            if not token_hash or not accounts.touch(token_hash):
                raise SignedOutError
        handoffs.escalate_overdue()

    def render(rows: list[dict[str, Any]]) -> Iterator[str]:
        last = rows[-1]["id"]
        if any(r["kind"] != "typing" for r in rows):
            yield sse("queue", queue_payload(handoffs), last)
        if feed is not None and any(r["sender_id"] == feed.view.sender_id for r in rows):
            yield sse("chat", feed.update(), last)

    def lines() -> Iterator[str]:
        try:
            on_tick()
        except SignedOutError:
            yield sse("signed_out", {"message": "로그아웃되었어요. 다시 로그인해 주세요."})
            return
        yield sse("queue", queue_payload(handoffs), after)  # a fresh start, then only changes
        if feed is not None:
            yield sse("chat", feed.update(), after)
        try:
            yield from follow(handoffs, render, after=after, lifetime_s=lifetime, on_tick=on_tick)
        except SignedOutError:
            yield sse("signed_out", {"message": "로그아웃되었어요. 다시 로그인해 주세요."})

    return stream_response(stream_with_context(lines()))
