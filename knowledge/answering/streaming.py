"""A streamed answer produced in a background thread and readable from its start by any reader.

The action server produces an answer's events while the web app reads them, and the web app keeps
reading (to record the final text) after the citizen's browser went away. Both sides use
:class:`EventLog`: the producer never waits for a reader, and a reader that arrives late replays
what it missed.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class EventLog(Generic[T]):
    """Events appended by one producer; readers wait for new ones and see every event from the first."""

    def __init__(self) -> None:
        """An open, empty log."""
        self._events: list[T] = []
        self._closed = False
        self._changed = threading.Condition()
        self.closed_at: float | None = None
        """Monotonic time the log was closed (None while open), for expiry."""

    @property
    def closed(self) -> bool:
        """Whether the producer is done (no event will follow)."""
        return self._closed

    def append(self, event: T) -> None:
        """Add an event and wake the readers."""
        with self._changed:
            if self._closed:
                raise RuntimeError("the event log is closed")
            self._events.append(event)
            self._changed.notify_all()

    def close(self) -> None:
        """Mark the end of the events and wake the readers."""
        with self._changed:
            if not self._closed:
                self._closed, self.closed_at = True, time.monotonic()
                self._changed.notify_all()

    def wait(self, after: int, timeout_s: float) -> tuple[list[T], bool]:
        """Events from index ``after`` on, waiting up to ``timeout_s`` for one; and whether the log is closed."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._events) > after or self._closed, timeout=timeout_s)
            return self._events[after:], self._closed

    def follow(self, idle_timeout_s: float) -> Iterator[T]:
        """Every event from the first, as they come, until the log is closed.

        Raises:
            TimeoutError: no event came (and the log stayed open) for ``idle_timeout_s``.
        """
        seen = 0
        while True:
            events, closed = self.wait(seen, idle_timeout_s)
            yield from events
            seen += len(events)
            if closed and not events:
                return
            if not events and not closed:
                raise TimeoutError(f"no event for {idle_timeout_s:g} s")


def produce_in_background(
    events: Iterator[T], log: EventLog[T], on_error: Callable[[BaseException], T], *, name: str
) -> threading.Thread:
    """Drain ``events`` into ``log`` in a daemon thread; an exception becomes ``on_error``'s event. The log is closed at the end.

    The thread runs in a copy of the caller's context, so its log lines carry the request id of the turn that
    started it (the caller's server thread clears its own id after the request; the copy keeps it).
    """

    def work() -> None:
        try:
            for event in events:
                log.append(event)
        except Exception as exc:  # noqa: BLE001 - the reader gets a final event instead of silence
            log.append(on_error(exc))
        finally:
            log.close()

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name=name, daemon=True)
    thread.start()
    return thread
