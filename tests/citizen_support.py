"""Citizen sessions and API keys in tests: a real session from the server, or a token for a session a test names.

Widget endpoints answer only the holder of a session's token (channels/citizen_sessions.py) and
``/api/v1/chat`` only a configured API key (channels/api_keys.py). Tests that are about something else use
:class:`SessionHoldingClient`, a browser that holds the token of every session it names; tests about the
tokens themselves use a plain client and :func:`open_session`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from flask import Flask
from flask.testing import FlaskClient

from channels.api import ApiError, parse_session_id
from channels.citizen_sessions import HEADER, CitizenSessions

# The integration every test app knows (``AppSettings(api_keys=TEST_API_KEYS)``).
TEST_API_KEY = "test-integration-key-0123456789"
TEST_API_KEYS = f"test:{TEST_API_KEY}"
API_AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


def api_sender(session_id: str) -> str:
    """The conversation of ``session_id`` sent through ``/api/v1/chat`` with the test key."""
    return f"api:test:{session_id}"


def open_session(client: FlaskClient) -> tuple[str, dict[str, str]]:
    """A new session from ``POST /api/v1/widget/session``: its id and the header that proves holding it."""
    response = client.post("/api/v1/widget/session")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    return body["session_id"], {HEADER: body["token"]}


def session_headers(app: Flask, session_id: str) -> dict[str, str]:
    """The header of a session a test names (signed with the app's own key, as the server would issue it)."""
    sessions: CitizenSessions = app.extensions["bokji.citizen_sessions"]
    return {HEADER: sessions.token_for(session_id)}


def open_http_session(base_url: str, http: httpx.Client | None = None) -> tuple[str, dict[str, str]]:
    """:func:`open_session` against a running web app."""
    client = http or httpx.Client(timeout=30)
    try:
        response = client.post(f"{base_url}/api/v1/widget/session")
    finally:
        if http is None:
            client.close()
    assert response.status_code == 201, response.text
    body = response.json()
    return body["session_id"], {HEADER: body["token"]}


def citizen_app(app: Flask) -> Flask:
    """``app`` whose test clients hold every session's token (:class:`SessionHoldingClient`)."""
    app.test_client_class = SessionHoldingClient
    return app


class SessionHoldingClient(FlaskClient):
    """A test client that holds the token of whichever session id a widget request names.

    A request that already carries ``X-Bokji-Session`` (or ``Authorization`` on ``/api/v1/chat``) is sent as
    it is; ``/api/v1/chat`` gets the test integration's key.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        headers = dict(kwargs.pop("headers", None) or {})
        if path.startswith("/api/v1/chat") and "Authorization" not in headers:
            headers.update(API_AUTH)
        elif path.startswith(("/api/v1/widget/", "/api/v1/history", "/api/v1/feedback")) and HEADER not in headers:
            session_id = _named_session(path, kwargs)
            if session_id is not None:
                headers.update(session_headers(self.application, session_id))
        return super().open(*args, headers=headers, **kwargs)


def _named_session(path: str, kwargs: dict[str, Any]) -> str | None:
    """The session id a request names in its JSON body, query string or URL (None: none, or not a valid one)."""
    body = kwargs.get("json")
    query = kwargs.get("query_string")
    candidates: list[Any] = [
        body.get("session_id") if isinstance(body, dict) else None,
        query.get("session_id") if isinstance(query, dict) else None,
        *parse_qs(urlsplit(path).query).get("session_id", []),
    ]
    for candidate in candidates:
        try:
            return parse_session_id(candidate)
        except ApiError:
            continue
    return None
