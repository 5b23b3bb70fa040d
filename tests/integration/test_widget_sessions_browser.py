"""Server-issued sessions in real browsers: a second browser given a citizen's session id gets nothing of theirs.

The web app runs in a thread with the stand-in dialogue engine (tests/integration/test_widget_browser.py's
``serve``): what is tested is the web app's session check over real HTTP, from two Chromium contexts that
share nothing (as two people's browsers).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from itsdangerous import TimestampSigner

from tests.integration.test_widget_browser import PENSION, PHONE, QUESTION, Site, bots, open_widget, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration

FETCH = """async ([url, method, headers, body]) => {
  const res = await fetch(url, {method, headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit"});
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch (e) {}
  return {status: res.status, code: data && data.error ? data.error.code : null, message: data && data.error ? data.error.message : null,
          text: text};
}"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    served, server = serve(tmp_path)
    yield served
    server.close()


@pytest.fixture
def two_people(browser: Browser) -> Iterator[tuple[Page, Page]]:
    """Two browser contexts (no shared storage, cookies or cache), each with one page."""
    contexts = [browser.new_context(viewport=PHONE, locale="ko-KR") for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    errors: list[str] = []
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pages[0], pages[1]
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def fetch(page: Page, url: str, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FETCH, [url, method, {"Content-Type": "application/json", **(headers or {})}, body])
    return result


def stored(page: Page, key: str) -> str:
    return str(page.evaluate(f"() => localStorage.getItem('bokji.widget.{key}')"))


def ask(page: Page, text: str, expected: str) -> None:
    from playwright.sync_api import expect

    answered = bots(page).count()
    page.get_by_label("질문 입력").fill(text)
    page.keyboard.press("Enter")
    expect(bots(page).nth(answered)).to_contain_text(expected, timeout=5000)


def test_b_given_a_session_id_cannot_read_or_continue_a_conversation(site: Site, two_people: tuple[Page, Page]) -> None:
    from playwright.sync_api import expect

    a, b = two_people
    open_widget(a, site.url)
    ask(a, QUESTION, "349,700원")
    a_session, a_token = stored(a, "session"), stored(a, "token")
    assert a_session and a_token and a_session not in a_token
    assert site.app is not None
    transcripts = site.app.extensions["bokji.transcripts"]
    a_turns = transcripts.turns(f"web:{a_session}")
    assert [t["role"] for t in a_turns] == ["citizen", "bot"]

    # B knows A's session id (say, read off A's screen): direct requests with it and no token are refused.
    open_widget(b, site.url)
    base = site.url + "/api/v1"
    refused = [
        fetch(b, f"{base}/history?session_id={a_session}"),
        fetch(b, f"{base}/widget/chat", "POST", body={"session_id": a_session, "text": "/cancel_form"}),
        fetch(b, f"{base}/feedback", "POST", body={"session_id": a_session, "message_id": a_turns[1]["id"], "rating": "down"}),
        fetch(b, f"{base}/widget/events?session_id={a_session}"),
    ]
    assert [(r["status"], r["code"]) for r in refused] == [(401, "session_required")] * 4, refused
    assert all(r["message"] and PENSION not in r["text"] for r in refused)

    # B with a session of its own, naming A's: refused too, in Korean.
    ask(b, "주거급여가 뭐예요?", "주거급여")
    b_session, b_token = stored(b, "session"), stored(b, "token")
    assert b_session != a_session
    held = {"X-Bokji-Session": b_token}
    crossed = [
        fetch(b, f"{base}/history?session_id={a_session}", headers=held),
        fetch(b, f"{base}/widget/chat", "POST", held, {"session_id": a_session, "text": "/cancel_form"}),
        fetch(b, f"{base}/feedback", "POST", held, {"session_id": a_session, "message_id": a_turns[1]["id"], "rating": "down"}),
        fetch(b, f"{base}/widget/events?session_id={a_session}&token={b_token}"),
    ]
    assert [(r["status"], r["code"]) for r in crossed] == [(403, "session_mismatch")] * 4, crossed
    assert "다른 분의 대화" in str(crossed[0]["message"])

    # B puts A's session id into its own storage and reloads: the widget shows nothing of A's.
    b.evaluate(f"() => localStorage.setItem('bokji.widget.session', {a_session!r})")
    b.reload()
    expect(b.get_by_role("dialog", name="복지 안내 챗봇")).to_be_visible()
    expect(b.locator(".bw-citizen").first).to_contain_text("주거급여가 뭐예요?")
    expect(b.locator(".bw-panel")).not_to_contain_text("349,700원")
    ask(b, "기초연금 얼마 받을 수 있어요?", "349,700원")  # B's own question, answered in B's own conversation
    # B without any token of its own, only A's session id stored: a fresh session, nothing of A's.
    b.evaluate(
        f"() => {{ localStorage.setItem('bokji.widget.token', ''); localStorage.setItem('bokji.widget.session', {a_session!r}); }}"
    )
    b.reload()
    expect(b.get_by_role("dialog", name="복지 안내 챗봇")).to_be_visible()
    expect(bots(b)).to_have_count(1)  # the welcome only
    ask(b, "안녕하세요", "죄송해요")
    assert stored(b, "session") not in (a_session, b_session)

    assert len(transcripts.turns(f"web:{a_session}")) == len(a_turns), "B added nothing to A's conversation"
    assert transcripts.feedback() == []
    # A still has the whole conversation.
    a.reload()
    expect(a.get_by_role("dialog", name="복지 안내 챗봇")).to_be_visible()
    expect(bots(a).nth(1)).to_contain_text("349,700원")


def test_an_expired_session_starts_a_new_conversation_with_a_notice(
    site: Site, two_people: tuple[Page, Page], monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    page, _ = two_people
    assert site.app is not None
    sessions = site.app.extensions["bokji.citizen_sessions"]
    with monkeypatch.context() as past:
        past.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - sessions.ttl_s - 60)
        stale = sessions.issue()
    page.goto(site.url + "/")
    page.evaluate(
        "([session, token]) => { localStorage.setItem('bokji.widget.session', session);"
        " localStorage.setItem('bokji.widget.token', token); localStorage.setItem('bokji.widget.seen', String(Date.now())); }",
        [stale.session_id, stale.token],
    )
    open_widget(page, site.url)
    ask(page, QUESTION, "349,700원")
    expect(page.locator(".bw-notice")).to_contain_text("새 대화")
    renewed = stored(page, "session")
    assert renewed != stale.session_id
    sender = {sender for sender, _ in site.engine.sent}
    assert sender == {f"web:{renewed}"}, "the question went to the new session only"
