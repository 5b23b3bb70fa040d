"""Sign-in pages: /console/login, /console/logout and /console/account (who am I, sign out)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from channels.auth.accounts import ROLE_LABELS
from channels.auth.guard import StaffPrincipal, accounts, roles_required, safe_next, signed_in

bp = Blueprint("auth", __name__, template_folder="templates")

WRONG = "아이디 또는 비밀번호가 맞지 않아요."
LOCKED = "비밀번호를 여러 번 틀려 계정이 잠겼어요. {minutes}분 뒤에 다시 시도하거나 관리자에게 문의해 주세요."
DISABLED = "사용이 중지된 계정이에요. 관리자에게 문의해 주세요."
SIGNED_OUT = "로그아웃했어요."
# Browsers drop a Secure cookie that arrives over plain http (except on localhost): sign-in would silently bounce.
INSECURE = (
    "이 주소는 HTTPS가 아니어서 로그인 상태가 유지되지 않아요. https:// 주소로 접속해 주세요. "
    "시험용 내부망이라면 관리자가 BOKJI_CONSOLE__COOKIE_SECURE=false 로 설정할 수 있어요."
)
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


@bp.get("/console/login")
def login() -> Any:
    """The sign-in form (already signed in: straight on)."""
    who = signed_in()
    if who is not None:
        return redirect(safe_next(request.args.get("next")) or landing(who.role))
    return render_template(
        "auth/login.html",
        next=safe_next(request.args.get("next")) or "",
        username="",
        warning=INSECURE if _cookie_lost() else None,
    )


@bp.post("/console/login")
def login_submit() -> Any:
    """Check the password; the same message for an unknown user and a wrong password."""
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:512]
    target = safe_next(request.form.get("next"))
    result = accounts().authenticate(username, password)
    if result.token is None or result.account is None:
        message = {"locked": LOCKED.format(minutes=result.locked_minutes), "disabled": DISABLED}.get(result.refused or "", WRONG)
        form = render_template("auth/login.html", next=target or "", username=username.strip(), error=message)
        return form, 429 if result.refused == "locked" else 401
    session.clear()  # a fresh cookie (and CSRF token) for the signed-in browser: nothing planted before survives
    signed = accounts().lookup(result.token)
    if signed is None:  # disabled in the same instant
        return render_template("auth/login.html", next="", username="", error=WRONG), 401
    login_user(StaffPrincipal(result.token, signed))
    return redirect(target or landing(signed.role))


@bp.post("/console/logout")
def logout() -> Any:
    """End this browser's sign-in on the server too (the cookie alone no longer signs anyone in)."""
    who = signed_in()
    if who is not None:
        accounts().sign_out(who.token_hash)
    logout_user()
    session.clear()
    flash(SIGNED_OUT)
    return redirect(url_for("auth.login"))


@bp.get("/console/account")
@roles_required()
def account() -> Any:
    """Who is signed in, with the sign-out button; editors land here until the knowledge admin exists."""
    who = signed_in()
    assert who is not None  # roles_required
    return render_template(
        "auth/account.html", who=who, role_label=ROLE_LABELS.get(who.role, who.role), console=_has_page("/console"),
        admin=_has_page("/admin"),
    )  # fmt: skip


def landing(role: str) -> str:
    """Where a role starts: editors the knowledge admin, agents and admins the console (while it exists)."""
    wanted = "/admin" if role == "editor" else "/console"
    return wanted if _has_page(wanted) else url_for("auth.account")


def _cookie_lost() -> bool:
    """A Secure cookie over plain http to a host that is not this machine (a TLS proxy in front says so in a header)."""
    if not current_app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
        return False
    if request.headers.get("X-Forwarded-Proto", "").lower() == "https":
        return False
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return host not in LOOPBACK and not host.startswith("127.") and not host.endswith(".localhost")


def _has_page(path: str) -> bool:
    return any(rule.rule in (path, path + "/") and "GET" in (rule.methods or ()) for rule in current_app.url_map.iter_rules())
