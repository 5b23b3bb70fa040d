"""The widget under Content-Security-Policy: on our demo page (our own policy) and on a city page whose strict policy
allows only what the README tells a city to allow (script, style and connect from the widget's server)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from channels.settings import WidgetSettings
from tests.integration.test_widget_browser import QUESTION, Site, bots, open_widget, page, serve, site  # noqa: F401

pytestmark = pytest.mark.integration

# Records every CSP violation on the page (an init script runs before the page's own and is not subject to its CSP).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def city_policy(widget: str) -> str:
    """What a city adds to its own policy for the widget (README): script, style and connect from our server."""
    return f"default-src 'self'; script-src 'self' {widget}; style-src 'self' {widget}; connect-src 'self' {widget}"


@contextmanager
def strict_city_page(policy: Any) -> Iterator[str]:
    """A city page on another origin that sends ``policy(origin)`` as its Content-Security-Policy."""
    holder: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            html = f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>예시시청</title></head>
            <body><h1>예시시청 복지과</h1><script src="{holder["widget"]}/widget.js" defer></script></body></html>""".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy(holder["widget"]))
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", holder
    finally:
        server.shutdown()
        server.server_close()


def violations(opened: Page) -> list[str]:
    return list(opened.evaluate("() => window.__violations"))


def shown(opened: Page) -> bool:
    """The widget unhides itself once its stylesheet has loaded (a blocked stylesheet leaves it visible but unstyled)."""
    return bool(opened.locator("#bokji-widget").evaluate("n => getComputedStyle(n).visibility === 'visible'"))


def test_the_demo_page_and_widget_run_under_our_own_policy_without_a_violation(page: Page, site: Site) -> None:  # noqa: F811
    page.add_init_script(WATCH_VIOLATIONS)
    response = page.goto(site.url + "/")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(bots(page).nth(1)).to_contain_text("349,700원")
    assert shown(page)
    assert violations(page) == []


def test_a_city_page_with_a_strict_policy_runs_the_widget(page: Page, tmp_path: Path) -> None:  # noqa: F811
    page.add_init_script(WATCH_VIOLATIONS)
    with strict_city_page(city_policy) as (origin, holder):
        widget_site, server = serve(tmp_path, widget=WidgetSettings(allowed_origins=[origin]))
        holder["widget"] = widget_site.url
        try:
            page.goto(origin + "/")
            page.get_by_role("button", name="복지 안내 챗봇 열기").click()
            expect(page.get_by_label("질문 입력")).to_be_focused()
            page.get_by_label("질문 입력").fill(QUESTION)
            page.keyboard.press("Enter")
            expect(bots(page).nth(1)).to_contain_text("349,700원")
            assert shown(page)
            assert violations(page) == []
        finally:
            server.close()
