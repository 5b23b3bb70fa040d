"""Staff accounts and sign-in for web tests: ``make_staff`` then ``sign_in`` with the Flask test client."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from channels.auth.accounts import AccountService
from channels.handoff import Actor

PASSWORD = "correct-horse-9"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_staff(app: Flask, username: str, role: str, password: str = PASSWORD, name: str | None = None) -> Actor:
    """Create an account through the real AccountService; returns it as the handoff state machine's actor."""
    accounts: AccountService = app.extensions["bokji.accounts"]
    account = accounts.add_user(username, name or username, role, password)
    return Actor(account.id, account.display_name, account.role)


def csrf_token(client: FlaskClient, path: str = "/console/account") -> str:
    """The CSRF token a page of ``path`` gives its scripts (the meta tag) or forms."""
    html = client.get(path).get_data(as_text=True)
    found = _CSRF_META.search(html) or _CSRF_FIELD.search(html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the CSRF token to send as ``X-CSRFToken`` afterwards."""
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client, "/console/login")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_token(client)
