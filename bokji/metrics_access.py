"""Who may read ``GET /metrics`` on the web app and the action server: Prometheus, not the public.

With ``BOKJI_METRICS_TOKEN`` set a scrape must send ``Authorization: Bearer <token>`` (from any address).
Without it only a request made directly on loopback may scrape: one that came through a reverse proxy
carries ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP`` and is refused, even when the proxy itself
connects from 127.0.0.1.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

PROXY_HEADERS = frozenset({"x-forwarded-for", "forwarded", "x-real-ip"})


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <token>`` (constant-time compare)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def loopback(address: str | None) -> bool:
    """Whether ``address`` is a loopback IP address (127.0.0.0/8, ::1)."""
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def may_scrape(token: str, authorization: str | None, address: str | None, headers: Iterable[str]) -> bool:
    """The rule above, for a request's ``Authorization`` header, peer address and header names."""
    if token:
        return bearer_matches(authorization, token)
    return loopback(address) and not ({h.lower() for h in headers} & PROXY_HEADERS)
