"""Security headers on every response, and pages the CSP does not break (no inline script, style or handler)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from channels.security import CONTENT_SECURITY_POLICY
from tests.unit.fakes import ScriptedRasa

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def test_the_policy_is_the_documented_one() -> None:
    assert CONTENT_SECURITY_POLICY == POLICY


def test_pages_errors_and_apis_all_carry_the_headers(client: FlaskClient) -> None:
    responses = [
        client.get("/"),
        client.get("/console/login"),
        client.get("/console/"),  # a redirect to the sign-in page
        client.get("/api/v1/history?session_id=s-1"),
        client.post("/api/v1/chat", json={"session_id": "s-1", "text": "기초연금 얼마예요?"}),
        client.get("/api/v1/nothing"),
        client.get("/widget.js"),
    ]
    for response in responses:
        headers = response.headers
        assert headers["Content-Security-Policy"] == POLICY, response.request.path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_conversation_data_is_never_stored_but_the_widget_script_may_be_cached(client: FlaskClient) -> None:
    for response in (
        client.get("/api/v1/history?session_id=s-1"),
        client.post("/api/v1/chat", json={"session_id": "s-1", "text": "안녕하세요"}),
        client.post("/api/v1/widget/chat", json={"session_id": "s-1", "text": "안녕하세요"}),
        client.post("/api/v1/widget/chat", json={"session_id": "s-1", "text": "안녕하세요", "stream": True}),
        client.get("/console/login"),
        client.get("/admin/"),
        client.get("/console/api/queue"),
    ):
        assert "no-store" in response.headers["Cache-Control"], response.request.path
    script = client.get("/widget.js")
    assert "no-store" not in script.headers["Cache-Control"] and "max-age=300" in script.headers["Cache-Control"]
    assert "no-store" not in client.get("/static/widget.css").headers.get("Cache-Control", "")


def test_templates_hold_no_inline_script_style_or_event_handler() -> None:
    """What the CSP above would block: any of these would silently break a page in the browser."""
    templates = sorted(CHANNELS.rglob("templates/**/*.html"))
    assert len(templates) > 10
    for path in templates:
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline <script> in {path}"
        assert "<style" not in html, f"<style> in {path}"
        assert not re.search(r"\sstyle\s*=", html), f"style attribute in {path}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler in {path}"
        assert "javascript:" not in html, f"javascript: URL in {path}"


def test_scripts_set_no_style_attribute_and_evaluate_no_strings() -> None:
    for path in sorted(CHANNELS.rglob("static/*.js")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"""setAttribute\(\s*["']style""", source), path
        assert not re.search(r"""\bstyle\s*:\s*["']""", source), f"a style attribute through el() in {path}"
        assert "cssText" not in source and "eval(" not in source and "new Function" not in source, path
        assert not re.search(r"innerHTML\s*=", source), path
