"""Who is signed in, and the gate every staff route goes through (``roles_required``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import AnonymousUserMixin, UserMixin, current_user

from channels.auth.accounts import AccountService, SignedIn
from channels.handoff import Actor

F = TypeVar("F", bound=Callable[..., Any])
STAFF_API = "/console/api/"
UNAUTHENTICATED = "로그인이 필요해요. 다시 로그인해 주세요."
FORBIDDEN = "이 기능을 쓸 권한이 없어요. 필요하면 관리자에게 문의해 주세요."


class StaffPrincipal(UserMixin):
    """Flask-Login's user: a valid sign-in. ``get_id`` is the session token the Flask session keeps."""

    def __init__(self, token: str, signed_in: SignedIn) -> None:
        """Wrap a sign-in found by its token."""
        self.token = token
        self.signed_in = signed_in

    def get_id(self) -> str:
        """What Flask-Login stores in the (signed) session cookie: the random token, never the user id."""
        return self.token

    @property
    def role(self) -> str:
        """agent, editor or admin."""
        return self.signed_in.role


def accounts() -> AccountService:
    """The app's account service."""
    return cast(AccountService, current_app.extensions["bokji.accounts"])


def load_principal(token: str) -> StaffPrincipal | None:
    """Flask-Login's user_loader: the session row decides (ended, expired or disabled: anonymous)."""
    signed_in = accounts().lookup(token)
    return StaffPrincipal(token, signed_in) if signed_in else None


def signed_in() -> SignedIn | None:
    """The current request's sign-in, if any."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user.signed_in if isinstance(user, StaffPrincipal) else None


def current_actor() -> Actor:
    """The signed-in staff member as the handoff state machine sees them (use under ``roles_required``)."""
    who = signed_in()
    if who is None:
        raise LookupError("current_actor() outside a signed-in request; guard the route with roles_required")
    return Actor(who.user_id, who.display_name, who.role)


def current_session_token_hash() -> str | None:
    """The sha256 of this browser's session token (for ``AccountService.touch`` in long live streams)."""
    who = signed_in()
    return who.token_hash if who else None


def wants_json() -> bool:
    """Staff APIs and scripts get JSON errors; browsers opening pages get pages and redirects."""
    if request.path.startswith(STAFF_API):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "text/event-stream"])
    return best in ("application/json", "text/event-stream")


def json_error(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON shape of every staff API error."""
    return jsonify({"error": {"code": code, "message": message}}), status


def unauthenticated() -> Any:
    """401 for APIs, the sign-in page (coming back here afterwards) for pages."""
    if wants_json():
        return json_error(401, "unauthenticated", UNAUTHENTICATED)
    return redirect(url_for("auth.login", next=_here()))


def forbidden() -> Any:
    """403 as JSON or as a Korean page."""
    if wants_json():
        return json_error(403, "forbidden", FORBIDDEN)
    return render_template("auth/forbidden.html", message=FORBIDDEN), 403


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let only signed-in staff with one of ``roles`` in (no roles: any signed-in staff member)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            who = signed_in()
            if who is None:
                return unauthenticated()
            if roles and who.role not in roles:
                return forbidden()
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/console?x``), else None: no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


class Anonymous(AnonymousUserMixin):
    """Nobody signed in."""

    role = None


def _here() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")
