"""``init_auth``: the secret key, cookie flags, Flask-Login and CSRF protection of staff pages."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from channels.auth import views
from channels.auth.accounts import AccountService
from channels.auth.guard import Anonymous, json_error, load_principal, signed_in, unauthenticated, wants_json
from channels.settings import ConsoleSettings
from channels.store.database import Database

SESSION_COOKIE = "bokji_staff"
# Citizens' endpoints: no cookies, no sign-in, so nothing for a forged request to ride on.
CITIZEN_BLUEPRINTS = ("api", "widget", "kakao")
CSRF_FAILED = "보안 확인에 실패했어요. 페이지를 새로 고친 뒤 다시 시도해 주세요."


def init_auth(app: Flask, database: Database, settings: ConsoleSettings, data_dir: Path) -> None:
    """Make staff sign-in work on ``app`` (call once in the app factory)."""
    app.secret_key = settings.secret_key.get_secret_value() or secret_key_file(data_dir / "secret_key")
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # The token lives as long as the sign-in (which the server bounds), so a console left open for hours
        # does not start failing every action after Flask-WTF's default hour.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions["bokji.accounts"] = AccountService(database, settings)

    login = LoginManager(app)
    login.user_loader(load_principal)
    login.anonymous_user = Anonymous
    login.unauthorized_handler(unauthenticated)

    csrf = CSRFProtect(app)
    for name in CITIZEN_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if blueprint is None:
            raise RuntimeError(f"init_auth must run after the {name!r} blueprint is registered")
        csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_blueprint(views.bp)


def secret_key_file(path: Path) -> str:
    """A random key created once (mode 0600) and read back on every start, so restarts keep people signed in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable key; delete it to create a new one") from None
        return key
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def _csrf_failed(error: CSRFError) -> Any:
    """400 with a Korean message, never a 500; someone not signed in is told to sign in instead."""
    if wants_json():
        if signed_in() is None:
            return unauthenticated()
        return json_error(400, "csrf_failed", CSRF_FAILED)
    if request.endpoint == "auth.login_submit":
        page = render_template(
            "auth/login.html", next="", username="", error="페이지를 연 지 오래되었어요. 다시 로그인해 주세요."
        )
        return page, 400
    return render_template("auth/problem.html", title="보안 확인 실패", message=CSRF_FAILED), 400
