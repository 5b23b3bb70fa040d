"""Staff sign-in as a browser sees it: pages, cookies, lockout, revocation, CSRF and roles."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask, Response, jsonify
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from channels.app import create_app
from channels.auth import current_actor, roles_required, safe_next
from channels.auth.accounts import AccountService
from channels.settings import AppSettings, ConsoleSettings
from channels.store.models import StaffSession, utcnow
from tests.unit.fakes import ScriptedRasa
from tests.unit.staff_support import PASSWORD, csrf_token, make_staff, sign_in

WRONG = "아이디 또는 비밀번호가 맞지 않아요."


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def build(tmp_path: Path, **console: object) -> Flask:
    """The web app with two test-only routes: a staff API that changes something and an agents-only page."""
    app = create_app(AppSettings(data_dir=tmp_path, console=ConsoleSettings(**console)), engine=ScriptedRasa())  # type: ignore[arg-type]
    app.config["changes"] = []

    @roles_required("agent", "admin")
    def change() -> Response:
        app.config["changes"].append(current_actor())
        return jsonify({"actor": current_actor().name})

    @roles_required("agent", "admin")
    def page() -> str:
        return "상담 화면"

    app.add_url_rule("/console/api/test-change", "test_change", change, methods=["POST"])
    app.add_url_rule("/console/test-page", "test_page", page)
    return app


@pytest.fixture
def staff_app(tmp_path: Path) -> Flask:
    app = build(tmp_path, lockout_attempts=3, lockout_minutes=15)
    make_staff(app, "kim", "agent", name="김상담")
    make_staff(app, "lee", "editor", name="이편집")
    return app


def login(client: FlaskClient, username: str, password: str, next_: str = "") -> TestResponse:
    token = csrf_token(client, "/console/login")
    return client.post("/console/login", data={"username": username, "password": password, "next": next_, "csrf_token": token})


def accounts(app: Flask) -> AccountService:
    return app.extensions["bokji.accounts"]


def test_login_page_is_korean_with_labelled_fields(staff_app: Flask) -> None:
    html = staff_app.test_client().get("/console/login").get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert '<label for="username">아이디</label>' in html and 'id="username"' in html
    assert '<label for="password">비밀번호</label>' in html and 'id="password"' in html
    assert "로그인</button>" in html


def test_sign_in_opens_the_account_and_sign_out_ends_it(staff_app: Flask) -> None:
    client = staff_app.test_client()
    token = sign_in(client, "kim")
    assert "김상담" in client.get("/console/account").get_data(as_text=True)
    assert client.post("/console/api/test-change", headers={"X-CSRFToken": token}).get_json() == {"actor": "김상담"}
    response = client.post("/console/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/console/login"
    assert "로그아웃했어요." in client.get("/console/login").get_data(as_text=True)
    assert client.get("/console/account").status_code == 302
    assert client.post("/console/api/test-change", headers={"X-CSRFToken": token}).status_code == 401


def test_agents_land_on_a_working_page_and_editors_on_the_knowledge_admin(staff_app: Flask) -> None:
    for username in ("kim", "lee"):
        client = staff_app.test_client()
        response = login(client, username, PASSWORD)
        assert response.status_code == 302
        assert client.get(response.headers["Location"]).status_code == 200
    assert login(staff_app.test_client(), "lee", PASSWORD).headers["Location"] == "/admin"
    assert '<a href="/admin">지식 관리로 가기</a>' in client.get("/console/account").get_data(as_text=True)


def test_unknown_user_and_wrong_password_read_the_same(staff_app: Flask) -> None:
    client = staff_app.test_client()
    for username, password in (("kim", "wrong-password-1"), ("nobody", PASSWORD)):
        response = login(client, username, password)
        assert response.status_code == 401
        assert WRONG in response.get_data(as_text=True)
    assert client.get("/console/account").status_code == 302


def test_lockout_after_wrong_passwords_in_a_row(staff_app: Flask) -> None:
    client = staff_app.test_client()
    for _ in range(2):
        assert WRONG in login(client, "kim", "wrong-password-1").get_data(as_text=True)
    locked = login(client, "kim", "wrong-password-1").get_data(as_text=True)
    assert "비밀번호를 여러 번 틀려 계정이 잠겼어요. 15분 뒤에 다시 시도하거나 관리자에게 문의해 주세요." in locked
    still = login(client, "kim", PASSWORD)  # the right password does not open a locked account
    assert still.status_code == 429 and "계정이 잠겼어요" in still.get_data(as_text=True)
    accounts(staff_app).reset_password("kim", "a-new-password-2")  # an admin unlocks by resetting
    assert login(client, "kim", "a-new-password-2").status_code == 302


def test_a_success_resets_the_count_and_the_lock_expires(staff_app: Flask) -> None:
    service = accounts(staff_app)
    for _ in range(2):
        assert service.authenticate("kim", "wrong-password-1").refused == "wrong"
    assert service.authenticate("kim", PASSWORD).token
    for _ in range(2):
        assert service.authenticate("kim", "wrong-password-1").refused == "wrong"
    assert service.authenticate("kim", "wrong-password-1").refused == "locked"
    assert service.authenticate("kim", PASSWORD, now=utcnow() + timedelta(minutes=14)).refused == "locked"
    assert service.authenticate("kim", PASSWORD, now=utcnow() + timedelta(minutes=16)).token


def test_disabled_account_cannot_sign_in(staff_app: Flask) -> None:
    accounts(staff_app).disable("kim")
    response = login(staff_app.test_client(), "kim", PASSWORD)
    assert response.status_code == 401 and "사용이 중지된 계정이에요" in response.get_data(as_text=True)
    accounts(staff_app).enable("kim")
    assert login(staff_app.test_client(), "kim", PASSWORD).status_code == 302


@pytest.mark.parametrize("revoke", ["disable", "reset"])
def test_disable_or_reset_signs_the_browser_out_at_once(staff_app: Flask, revoke: str) -> None:
    client = staff_app.test_client()
    token = sign_in(client, "kim")
    if revoke == "disable":
        accounts(staff_app).disable("kim")
    else:
        accounts(staff_app).reset_password("kim", "a-new-password-2")
    assert client.get("/console/account").headers["Location"] == "/console/login?next=/console/account"
    response = client.post("/console/api/test-change", headers={"X-CSRFToken": token})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"
    assert staff_app.config["changes"] == []


def test_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(staff_app: Flask) -> None:
    client = staff_app.test_client()
    token = sign_in(client, "kim")
    for headers in ({}, {"X-CSRFToken": "forged"}):
        response = client.post("/console/api/test-change", headers=headers)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "csrf_failed"
        assert "보안 확인에 실패했어요" in response.get_json()["error"]["message"]
    assert staff_app.config["changes"] == []
    page = client.post("/console/logout")  # a page: a Korean page, and still signed in
    assert page.status_code == 400 and "보안 확인에 실패했어요" in page.get_data(as_text=True)
    assert client.get("/console/account").status_code == 200
    assert client.post("/console/api/test-change", headers={"X-CSRFToken": token}).status_code == 200


def test_login_form_needs_its_csrf_token(staff_app: Flask) -> None:
    client = staff_app.test_client()
    response = client.post("/console/login", data={"username": "kim", "password": PASSWORD})
    assert response.status_code == 400 and "다시 로그인해 주세요" in response.get_data(as_text=True)
    assert client.get("/console/account").status_code == 302


def test_citizen_endpoints_need_no_csrf_token(staff_app: Flask) -> None:
    response = staff_app.test_client().post("/api/v1/chat", json={"session_id": "citizen-1", "text": "기초연금 얼마예요?"})
    assert response.status_code == 200


def test_roles_and_anonymous_requests(staff_app: Flask) -> None:
    anonymous = staff_app.test_client()
    assert anonymous.get("/console/test-page").headers["Location"] == "/console/login?next=/console/test-page"
    response = anonymous.post("/console/api/test-change")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"
    stream = anonymous.get("/console/test-page", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 401 and stream.is_json
    editor = staff_app.test_client()
    token = sign_in(editor, "lee")
    response = editor.post("/console/api/test-change", headers={"X-CSRFToken": token})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    page = editor.get("/console/test-page")
    assert page.status_code == 403 and "권한이 없어요" in page.get_data(as_text=True)
    assert staff_app.config["changes"] == []


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/%0a", "\t//evil.example"]
)
def test_next_never_leaves_the_site(staff_app: Flask, target: str) -> None:
    response = login(staff_app.test_client(), "kim", PASSWORD, target)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_next_brings_the_agent_back_to_the_page_they_asked_for(staff_app: Flask) -> None:
    client = staff_app.test_client()
    next_ = client.get("/console/test-page?chat=7").headers["Location"].split("next=", 1)[1]
    assert 'name="next" value="/console/test-page?chat=7"' in client.get(f"/console/login?next={next_}").get_data(as_text=True)
    assert login(client, "kim", PASSWORD, "/console/test-page?chat=7").headers["Location"] == "/console/test-page?chat=7"
    assert safe_next("/console?x=1") == "/console?x=1" and safe_next("//x") is None


def test_cookie_flags(tmp_path: Path) -> None:
    for secure in (True, False):
        app = build(tmp_path / str(secure), cookie_secure=secure)
        make_staff(app, "kim", "agent")
        response = login(app.test_client(), "kim", PASSWORD)
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("bokji_staff=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_the_cookie_keeps_no_password_and_the_database_no_token(staff_app: Flask) -> None:
    client = staff_app.test_client()
    sign_in(client, "kim")
    with staff_app.extensions["bokji.database"].session() as session:
        rows = session.query(StaffSession).all()
    assert len(rows) == 1 and re.fullmatch(r"[0-9a-f]{64}", rows[0].token_hash)
    cookie = client.get_cookie("bokji_staff")
    assert cookie is not None and rows[0].token_hash not in cookie.value and PASSWORD not in cookie.value


def test_secret_key_file_is_private_and_survives_a_restart(tmp_path: Path) -> None:
    app = build(tmp_path)
    make_staff(app, "kim", "agent")
    client = app.test_client()
    sign_in(client, "kim")
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    restarted = build(tmp_path)
    cookie = client.get_cookie("bokji_staff")
    assert cookie is not None
    again = restarted.test_client()
    again.set_cookie("bokji_staff", cookie.value)
    assert again.get("/console/account").status_code == 200


def test_configured_secret_key_is_used(tmp_path: Path) -> None:
    app = build(tmp_path, secret_key="x" * 40)
    assert app.secret_key == "x" * 40 and not (tmp_path / "secret_key").exists()


def test_presence_is_refreshed_and_ends_with_the_sign_in(staff_app: Flask) -> None:
    client = staff_app.test_client()
    token = sign_in(client, "kim")
    database = staff_app.extensions["bokji.database"]
    old = utcnow() - timedelta(minutes=10)
    with database.session() as session:
        row = session.query(StaffSession).one()
        row.last_seen_at, digest = old, row.token_hash
    client.get("/console/account")
    with database.session() as session:
        assert session.get(StaffSession, digest).last_seen_at > old  # type: ignore[union-attr]
    assert accounts(staff_app).touch(digest)
    client.post("/console/logout", data={"csrf_token": token})
    assert not accounts(staff_app).touch(digest)


def test_password_is_rehashed_when_the_parameters_change(staff_app: Flask) -> None:
    service = accounts(staff_app)
    weak, service.hasher = service.hasher, PasswordHasher(time_cost=1, memory_cost=8192)
    service.add_user("park", "박상담", "agent", PASSWORD)
    service.hasher = weak
    with staff_app.extensions["bokji.database"].session() as session:
        from channels.store.models import StaffUser

        before = session.query(StaffUser).filter_by(username="park").one().password_hash
        assert service.hasher.check_needs_rehash(before)
    assert service.authenticate("park", PASSWORD).token
    with staff_app.extensions["bokji.database"].session() as session:
        after = session.query(StaffUser).filter_by(username="park").one().password_hash
    assert after != before and not service.hasher.check_needs_rehash(after)


def test_sign_ins_and_failures_are_audited(staff_app: Flask) -> None:
    client = staff_app.test_client()
    for _ in range(3):
        login(client, "kim", "wrong-password-1")
    accounts(staff_app).reset_password("kim", "a-new-password-2")
    token = sign_in(client, "kim", "a-new-password-2")
    client.post("/console/logout", data={"csrf_token": token})
    actions = [e["action"] for e in reversed(staff_app.extensions["bokji.handoffs"].audit())]
    assert actions[-7:] == ["sign_in_failed"] * 3 + ["locked", "password_reset", "signed_in", "signed_out"]


def test_login_page_warns_when_the_secure_cookie_cannot_arrive(staff_app: Flask) -> None:
    client = staff_app.test_client()
    assert "HTTPS가 아니어서" in client.get("/console/login", base_url="http://192.0.2.2:8000").get_data(as_text=True)
    for base in ("http://127.0.0.1:8000", "http://localhost:8000", "https://bokji.city.example"):
        assert "HTTPS가 아니어서" not in client.get("/console/login", base_url=base).get_data(as_text=True)
    proxied = client.get("/console/login", base_url="http://bokji.city.example", headers={"X-Forwarded-Proto": "https"})
    assert "HTTPS가 아니어서" not in proxied.get_data(as_text=True)
