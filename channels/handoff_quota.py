"""New requests for a person, limited per client address so fresh session ids cannot flood the queue.

The state machine stays :class:`~channels.handoff.HandoffService`; this only refuses to open a new
(non-urgent) request when the address that asks has opened too many lately. A crisis (urgent) request
is never refused, a chat already queued is never affected, and requests made outside a web request
(KakaoTalk's background answers, streamed answers completing) have no address to count against.
"""

from __future__ import annotations

from typing import Protocol

from flask import has_request_context

from channels.handoff import HandoffService, HandoffView
from channels.rate_limits import RateLimitedError
from channels.settings import HandoffSettings
from channels.store.database import Database
from channels.store.transcripts import TranscriptStore

RULE = "handoffs"


class HandoffBudget(Protocol):
    """Where the counts of new requests per client address live (:class:`channels.rate_limits.RateLimits`)."""

    def client(self) -> str:
        """The address of the current request's client."""
        ...

    def admits(self, rule: str, key: str) -> bool:
        """Whether one more fits under ``rule`` for ``key``."""
        ...

    def hit(self, rule: str, key: str, cost: int = 1) -> None:
        """Count one more."""
        ...


class MeteredHandoffService(HandoffService):
    """The handoff service whose new non-urgent requests count against the asking client's budget."""

    def __init__(
        self, database: Database, transcripts: TranscriptStore, settings: HandoffSettings, budget: HandoffBudget
    ) -> None:
        """Wrap the state machine's constructor; ``budget`` counts new requests per address."""
        super().__init__(database, transcripts, settings)
        self._budget = budget

    def request(self, sender_id: str, reason: str, urgent: bool = False) -> tuple[HandoffView, bool]:
        """Queue the chat as :meth:`HandoffService.request` does, unless a new non-urgent request is over budget.

        Raises:
            RateLimitedError: this address opened too many requests lately (the web app answers 429).
        """
        metered = not urgent and has_request_context() and self.active(sender_id) is None
        if metered:
            client = self._budget.client()
            if not self._budget.admits(RULE, client):
                self._budget.hit(RULE, client)  # raises with the wait until the oldest request leaves the window
        view, created = super().request(sender_id, reason, urgent)
        if metered and created:
            try:
                self._budget.hit(RULE, self._budget.client())
            except RateLimitedError:
                pass  # a request that raced past the check is already queued: keep it
        return view, created
