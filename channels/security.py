"""Security headers on every response of the web app: CSP, no sniffing, no framing, no referrer leaks, no-store.

Our pages (demo, console, admin, sign-in) load scripts, styles and data only from this server and hold
no inline script or style, so the policy needs no 'unsafe-inline'. No page is meant to be framed: the
widget is a script a city page loads, not an iframe. Only static files and the widget script may be
cached; everything else (conversations, history, the console and the admin) is ``no-store``.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",  # the pages' empty favicon is a data: URL
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Files that hold nothing personal and may be cached by browsers (their own max-age stays).
CACHEABLE_ENDPOINTS = frozenset({"widget.script"})


def cacheable(endpoint: str | None) -> bool:
    """Static files and the widget script; every other response may carry someone's conversation."""
    return endpoint is not None and (endpoint in CACHEABLE_ENDPOINTS or endpoint.endswith("static"))


def add_security_headers(response: Response) -> Response:
    """Set the headers above, keeping any a view chose itself (a stream's ``no-cache`` gains ``no-store``)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not cacheable(request.endpoint):
        existing = response.headers.get("Cache-Control")
        if existing is None:
            response.headers["Cache-Control"] = "no-store"
        elif "no-store" not in existing:
            response.headers["Cache-Control"] = f"{existing}, no-store"
    return response


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response of ``app`` (errors and 404s included)."""
    app.after_request(add_security_headers)
