"""The website widget in a real headless Chromium (Debian's chromium package, driven by Playwright).

Two sites: the web app served in a thread with a stand-in dialogue engine (fast, runs anywhere Chromium
does), and the real stack (`stack` fixture: Rasa, action server, web app) for the main flow.
Screenshots go to test-artifacts/; the real-stack one is also copied to docs/widget-phone.png.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from waitress.server import create_server

from channels.app import create_app
from channels.handoff import CANCELLED, JOINED, RETURNED, HandoffService
from channels.settings import AppSettings, WidgetSettings
from tests.axe import describe, serious_violations
from tests.handoff_support import staff
from tests.integration.conftest import RunningStack, reply_to

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
QUESTION = "기초연금 얼마 받을 수 있어요?"

PENSION = "2026년 기초연금 기준연금액(최대 지급액)은 월 349,700원이에요. 소득인정액이 선정기준액 이하인 만 65세 이상 어르신이 받으실 수 있어요."
HOUSING = (
    "주거급여는 소득인정액이 기준 중위소득의 48% 이하인 가구의 집세와 집 수리를 도와드리는 제도예요. "
    "임차 가구는 지역과 가구원 수에 따른 기준임대료 안에서 실제 임차료를 받으시고, "
    "자가 가구는 집의 노후 정도에 따라 지붕, 창호, 난방 같은 수선을 지원받으실 수 있어요. "
    "신청은 주소지 행정복지센터나 복지로 누리집에서 하실 수 있어요. "
) * 2


# A generated answer, as the action server streams it: checked sentences, then the final message.
GENERATED = ["의료급여 선정기준은 기준 중위소득의 40% 이하예요 [1]. ", "신청은 주소지 행정복지센터에서 하실 수 있어요 [1]."]
GENERATED_FINAL = (
    "".join(GENERATED)
    + "\n\n※ 안내 자료를 바탕으로 정리한 답변이에요. 정확한 내용은 출처나 보건복지상담센터(129)에서 확인해 주세요."
)
MEDICAL = {"title": "의료급여 안내", "url": "https://www.bokjiro.go.kr", "updated_at": "2026-01-02"}
# An answer quoted from an ingested document: its source says on which page and under which heading.
VOUCHER = "안내 자료에서 찾은 내용을 그대로 옮겨 드려요: 소득 기준은 없습니다. [1]"
VOUCHER_SOURCE = {"title": "예시시 청년 마음건강 안내", "url": "https://www.yesi.go.kr/mind", "updated_at": "2026-11-01",
                  "page": 3, "heading": "2. 지원 대상"}  # fmt: skip


class StandInStreams:
    """The action server's /streams/<id> for the generated answer, one sentence every ``pause_s``."""

    def __init__(self) -> None:
        self.pause_s = 0.8

    def events(self, stream_id: str) -> Iterator[dict[str, Any]]:
        for sentence in GENERATED:
            time.sleep(self.pause_s)
            yield {"event": "delta", "text": sentence}
        time.sleep(self.pause_s)
        custom = {"sources": [MEDICAL], "mode": "generated", "confidence": 0.8, "doc_id": "medical-benefit-criteria"}
        yield {"event": "final", "text": GENERATED_FINAL, "buttons": [], "custom": custom}


class StandInRasa:
    """Answers like Rasa's REST webhook for the questions the widget tests ask."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.sent.append((sender_id, text))
        if "의료급여" in text and (metadata or {}).get("stream") is True:
            return [{"custom": {"stream": "stand-in", "mode": "generated"}}]
        if "마음건강" in text:
            return [{"text": VOUCHER}, {"custom": {"sources": [VOUCHER_SOURCE], "mode": "extractive"}}]
        if "신청" in text:
            source = {"title": "기초연금 신청 안내", "url": "https://basicpension.mohw.go.kr", "updated_at": "2026-01-02"}
            apply = "기초연금은 주소지 행정복지센터나 국민연금공단 지사에서 신청하실 수 있어요."
            return [{"text": apply}, {"custom": {"sources": [source], "mode": "faq"}}]
        if "기초연금" in text:
            source = {
                "title": "보건복지부 2026년 기초연금 기준연금액",
                "url": "https://basicpension.mohw.go.kr",
                "updated_at": "2026-01-09",
            }
            return [
                {"text": PENSION, "buttons": [{"title": "기초연금 신청 방법", "payload": "기초연금 어디서 신청해요?"}]},
                {"custom": {"sources": [source], "mode": "faq"}},
            ]
        if "주거급여" in text:
            source = {"title": "주거급여 안내", "url": "https://www.myhome.go.kr", "updated_at": "2026-01-02"}
            return [{"text": HOUSING}, {"custom": {"sources": [source], "mode": "faq"}}]
        if text == "/request_human":
            return [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
        return [
            {
                "text": "죄송해요. 말씀하신 내용은 확인할 수 없었어요.",
                "buttons": [{"title": "상담원 연결", "payload": "/request_human"}],
            }
        ]


@dataclass
class Site:
    url: str
    data_dir: Path
    engine: StandInRasa
    app: Flask | None = None


def serve(tmp_path: Path, **settings: Any) -> tuple[Site, Any]:
    """The web app with a stand-in engine, served by waitress on an ephemeral port in a thread."""
    engine = StandInRasa()
    app = create_app(AppSettings(data_dir=tmp_path, **settings), engine=engine, streams=StandInStreams())
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return Site(f"http://127.0.0.1:{server.effective_port}", tmp_path, engine, app), server


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    served, server = serve(tmp_path)
    yield served
    server.close()


@dataclass
class CityPage:
    origin: str
    widget_url: str = ""


@contextmanager
def city_page() -> Iterator[CityPage]:
    """A city page on another origin (another port) with its own aggressive styles, embedding the widget."""
    city = CityPage("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            html = f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>예시시청</title>
            <style>* {{ font-size: 8px !important; color: red !important; }} button {{ display: none; }}</style></head>
            <body><h1>예시시청</h1><script src="{city.widget_url}/widget.js" defer></script></body></html>""".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    city.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield city
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="ko-KR", device_scale_factor=2, has_touch=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def bots(page: Page) -> Locator:
    return page.locator(".bw-bot")


def open_widget(page: Page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/")
    expect(page).to_have_title(re.compile("복지 안내 챗봇"))
    page.get_by_role("button", name="복지 안내 챗봇 열기").click()
    expect(page.get_by_role("dialog", name="복지 안내 챗봇")).to_be_visible()
    expect(page.get_by_label("질문 입력")).to_be_focused()
    expect(bots(page).first).to_contain_text("안녕하세요")


def ask_until_answered(page: Page, question: str, expected: str, timeout_ms: float) -> Locator:
    """Ask, and follow the conversation (quick replies first) until an answer with ``expected`` and a source."""
    from playwright.sync_api import expect

    seen = bots(page).count()
    page.get_by_label("질문 입력").fill(question)
    page.keyboard.press("Enter")
    expect(page.locator(".bw-citizen").last).to_contain_text(question)
    for _ in range(6):
        expect(bots(page).nth(seen)).to_be_attached(timeout=timeout_ms)
        expect(page.locator(".bw-typing")).to_be_hidden(timeout=timeout_ms)
        seen = bots(page).count()
        latest = bots(page).last
        expect(latest.locator(".bw-extras")).to_be_visible(timeout=timeout_ms)
        if expected in (latest.text_content() or "") and latest.locator(".bw-sources a").count():
            return latest
        chips = latest.locator(".bw-chip")
        if chips.count():
            chips.first.click()
        else:
            page.get_by_label("질문 입력").fill(reply_to(latest.text_content() or ""))
            page.keyboard.press("Enter")
    pytest.fail(f"no answer with {expected!r} and a source after six turns")


def main_flow(page: Page, url: str, shot: Path, timeout_ms: float) -> None:
    """Ask, see the answer and its dated source link, rate it, click a quick reply, reload, enlarge the text."""
    from playwright.sync_api import expect

    open_widget(page, url)
    answer = ask_until_answered(page, QUESTION, "349,700원", timeout_ms)
    link = answer.locator(".bw-sources a").first
    expect(link).to_be_visible()
    assert "basicpension" in (link.get_attribute("href") or "") and link.get_attribute("target") == "_blank"
    expect(answer.locator(".bw-sources li").first).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} 기준"))
    ARTIFACTS.mkdir(exist_ok=True)
    answer.evaluate("node => { const log = node.closest('.bw-log'); log.scrollTop = node.offsetTop - log.offsetTop - 8; }")
    page.screenshot(path=str(shot))

    answer.get_by_role("button", name="도움이 됐어요").click()
    expect(answer.get_by_role("button", name="도움이 됐어요")).to_have_attribute("aria-pressed", "true")

    answered = bots(page).count()
    chip = answer.locator(".bw-chip").first if answer.locator(".bw-chip").count() else page.locator(".bw-chip").first
    chip_title = chip.inner_text()
    chip.click()
    expect(page.locator(".bw-citizen").last).to_have_text(f"나: {chip_title}")
    expect(bots(page).nth(answered)).to_be_attached(timeout=timeout_ms)
    expect(page.locator(".bw-typing")).to_be_hidden(timeout=timeout_ms)
    total = bots(page).count()

    page.reload()
    expect(page.get_by_role("dialog", name="복지 안내 챗봇")).to_be_visible()
    expect(bots(page)).to_have_count(total)
    restored = bots(page).filter(has_text="349,700원").first
    expect(restored.locator(".bw-sources a").first).to_be_visible()
    expect(restored.get_by_role("button", name="도움이 됐어요")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".bw-citizen").last).to_contain_text(chip_title)

    size = restored.locator(".bw-text").evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    page.get_by_role("button", name="글자 크게").click()
    expect(page.get_by_role("button", name="글자 크게")).to_have_attribute("aria-pressed", "true")
    larger = restored.locator(".bw-text").evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    assert larger >= size * 1.2
    page.screenshot(path=str(shot.with_name(shot.stem + "-large.png")))


# ---- with the stand-in engine ---------------------------------------------------------------------------
def test_main_flow_on_a_phone(page: Page, site: Site) -> None:
    main_flow(page, site.url, ARTIFACTS / "widget-phone-standin.png", timeout_ms=5000)
    db = sqlite3.connect(site.data_dir / "conversations.sqlite3")
    assert db.execute("SELECT rating FROM feedback").fetchall() == [("up",)]
    senders = {sender for sender, _ in site.engine.sent}
    issued = page.evaluate("() => localStorage.getItem('bokji.widget.session')")
    assert len(site.engine.sent) == 2 and senders == {f"web:{issued}"}, "one server-issued session for the whole chat"


def test_keyboard_only_use_and_screen_reader_labels(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url + "/")
    launcher = page.get_by_role("button", name="복지 안내 챗봇 열기")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="복지 안내 챗봇")).to_be_visible()
    field = page.get_by_label("질문 입력")
    expect(field).to_be_focused()
    page.keyboard.type("기초연금 얼마예요")
    page.keyboard.press("Enter")
    expect(bots(page).nth(1)).to_contain_text("349,700원")
    expect(page.get_by_role("log", name="대화 내용")).to_have_attribute("aria-live", "polite")
    expect(bots(page).nth(1).locator(".bw-sr").first).to_have_text("챗봇: ")
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("() => document.querySelector('#bokji-widget').shadowRoot.activeElement.textContent")
    assert focused == "상담원 연결"
    outline = page.evaluate(
        "() => getComputedStyle(document.querySelector('#bokji-widget').shadowRoot.activeElement).outlineStyle"
    )
    assert outline != "none", "focus is visible"
    page.keyboard.press("Enter")
    expect(bots(page).nth(2)).to_contain_text("상담원에게 연결해 드릴게요")
    expect(page.get_by_role("button", name="상담원 연결 요청됨")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_new_conversation_clears_the_screen_for_the_next_person(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(bots(page).nth(1)).to_contain_text("349,700원")
    page.get_by_role("button", name=re.compile("^새 대화 시작")).click()
    expect(bots(page)).to_have_count(1)
    expect(page.locator(".bw-citizen")).to_have_count(0)
    page.reload()
    expect(bots(page)).to_have_count(1)
    expect(page.locator(".bw-panel")).not_to_contain_text("349,700원")


def test_high_contrast_toggle_and_it_is_remembered(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    panel = page.get_by_role("dialog", name="복지 안내 챗봇")
    page.get_by_role("button", name="고대비").click()
    expect(page.get_by_role("button", name="고대비")).to_have_attribute("aria-pressed", "true")
    assert panel.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(0, 0, 0)"
    page.reload()
    expect(page.get_by_role("button", name="고대비")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_accessibility_violations(page: Page, site: Site, viewport: dict[str, int]) -> None:
    """axe-core on the demo page: closed, then with an answer (sources, quick reply, rating) shown, then high contrast."""
    from playwright.sync_api import expect

    page.set_viewport_size(viewport)
    page.goto(site.url + "/")
    expect(page.get_by_role("button", name="복지 안내 챗봇 열기")).to_be_visible()
    closed = serious_violations(page)
    assert closed == [], "closed widget on the demo page:\n" + describe(closed)

    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    answer = bots(page).nth(1)
    expect(answer.locator(".bw-extras")).to_be_visible()
    expect(answer.locator(".bw-sources a")).to_be_visible()
    expect(answer.get_by_role("button", name="도움이 됐어요")).to_be_visible()
    answered = serious_violations(page)
    assert answered == [], "after an answer:\n" + describe(answered)

    page.get_by_role("button", name="고대비").click()
    page.get_by_role("button", name="글자 크게").click()
    expect(page.get_by_role("button", name="글자 크게")).to_have_attribute("aria-pressed", "true")
    contrast = serious_violations(page)
    assert contrast == [], "high contrast, large text:\n" + describe(contrast)


def test_long_answers_appear_progressively(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.evaluate(
        """() => {
          const log = document.querySelector('#bokji-widget').shadowRoot.querySelector('.bw-log');
          window.__reveals = 0;
          new MutationObserver((records) => {
            records.forEach((r) => { if (r.target.closest && r.target.closest('.bw-visible')) window.__reveals++; });
          }).observe(log, { childList: true, subtree: true, characterData: true });
        }"""
    )
    page.get_by_label("질문 입력").fill("주거급여가 뭐예요?")
    page.keyboard.press("Enter")
    answer = bots(page).nth(1)
    expect(answer.locator(".bw-visible")).to_have_text(HOUSING.strip(), timeout=10000)
    expect(answer.locator(".bw-sources a")).to_be_visible()
    assert page.evaluate("() => window.__reveals") > 10
    expect(answer.locator(".bw-text .bw-sr")).to_have_text(HOUSING.strip())


def test_a_document_answer_shows_the_page_and_heading_of_its_source(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill("마음건강 바우처 소득 기준 있나요?")
    page.keyboard.press("Enter")
    source = bots(page).nth(1).locator(".bw-sources li")
    expect(source).to_have_text("출처: 예시시 청년 마음건강 안내 (새 창) (3쪽 · 2. 지원 대상) · 2026-11-01 기준")
    expect(source.locator("a")).to_have_attribute("href", "https://www.yesi.go.kr/mind")
    page.reload()  # the history keeps where the text comes from
    expect(bots(page).nth(1).locator(".bw-loc")).to_have_text(" (3쪽 · 2. 지원 대상)")


def test_a_generated_answer_streams_into_its_bubble_then_gets_its_sources(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill("의료급여 기준이 어떻게 돼요?")
    page.keyboard.press("Enter")
    answer = bots(page).nth(1)
    # The first checked sentence shows while the rest is still being written, before any source.
    expect(answer).to_have_class(re.compile("bw-streaming"), timeout=5000)
    expect(answer.locator(".bw-visible")).to_have_text(GENERATED[0].strip(), timeout=5000)
    expect(answer).to_have_attribute("aria-busy", "true")
    expect(answer.locator(".bw-sources")).to_have_count(0)
    page.get_by_label("질문 입력").fill("하나 더요")
    page.keyboard.press("Enter")
    expect(page.locator(".bw-citizen")).to_have_count(1)  # one question at a time while the answer is written
    # Then the final message replaces the bubble: whole text for screen readers, source and rating.
    final = bots(page).nth(1)
    expect(final.locator(".bw-sources a")).to_be_visible(timeout=10000)
    expect(final).not_to_have_class(re.compile("bw-streaming"))
    expect(final.locator(".bw-text .bw-sr")).to_have_text(GENERATED_FINAL)
    expect(final.locator(".bw-sources li").first).to_contain_text("2026-01-02 기준")
    final.get_by_role("button", name="도움이 됐어요").click()
    expect(final.get_by_role("button", name="도움이 됐어요")).to_have_attribute("aria-pressed", "true")
    page.reload()
    restored = bots(page).nth(1)
    expect(restored.locator(".bw-visible")).to_have_text(GENERATED_FINAL)
    expect(restored.get_by_role("button", name="도움이 됐어요")).to_have_attribute("aria-pressed", "true")


def test_a_stream_cut_off_mid_answer_still_shows_the_answer_the_server_recorded(page: Page, site: Site) -> None:
    from playwright.sync_api import Route, expect

    open_widget(page, site.url)

    def cut_off(route: Route) -> None:
        whole = route.fetch()  # the server answers (and records) in full; the page gets only the first lines
        lines = whole.text().splitlines()[:2]
        assert json.loads(lines[0])["type"] == "reply" and json.loads(lines[1])["type"] == "delta"
        route.fulfill(status=200, content_type="application/x-ndjson", body="\n".join(lines) + "\n")

    page.route("**/api/v1/widget/chat", cut_off)
    page.get_by_label("질문 입력").fill("의료급여 기준이 어떻게 돼요?")
    page.keyboard.press("Enter")
    answer = bots(page).nth(1)
    expect(answer.locator(".bw-sources a")).to_be_visible(timeout=15000)
    expect(answer.locator(".bw-text .bw-sr")).to_have_text(GENERATED_FINAL)
    expect(page.locator(".bw-notice")).to_have_count(0)


def test_a_reload_mid_answer_shows_the_answer_once_it_is_written(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill("의료급여 기준이 어떻게 돼요?")
    page.keyboard.press("Enter")
    expect(bots(page).nth(1)).to_have_class(re.compile("bw-streaming"), timeout=5000)
    page.reload()
    waiting = bots(page).nth(1)
    expect(waiting).to_have_class(re.compile("bw-streaming"))
    expect(waiting.get_by_role("button", name="도움이 됐어요")).to_have_count(0)
    expect(bots(page).nth(1).locator(".bw-sources a")).to_be_visible(timeout=15000)
    expect(bots(page).nth(1).locator(".bw-text .bw-sr")).to_have_text(GENERATED_FINAL)


def test_server_down_shows_a_korean_message_and_retry_works(page: Page, site: Site) -> None:
    from playwright.sync_api import Route, expect

    open_widget(page, site.url)
    page.route("**/api/v1/widget/chat", lambda route: route.abort("connectionrefused"))
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    notice = page.locator(".bw-notice")
    expect(notice).to_contain_text("서버에 연결할 수 없어요")
    expect(page.locator(".bw-panel")).not_to_contain_text("Failed to fetch")
    page.unroute("**/api/v1/widget/chat")
    page.get_by_role("button", name="다시 시도").click()
    expect(bots(page).nth(1)).to_contain_text("349,700원")
    expect(notice).to_have_count(0)

    def broken(route: Route) -> None:
        route.fulfill(status=500, content_type="text/html", body="<h1>Internal Server Error</h1><pre>Traceback ...</pre>")

    page.route("**/api/v1/widget/chat", broken)
    page.get_by_label("질문 입력").fill("하나 더 물어볼게요")
    page.keyboard.press("Enter")
    expect(notice).to_contain_text("죄송해요")
    panel_text = page.locator(".bw-panel").inner_text()
    assert "Traceback" not in panel_text and "Internal Server Error" not in panel_text


def test_history_failure_does_not_stop_the_chat(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.get_by_label("질문 입력").fill("주거급여가 뭐예요?")
    page.keyboard.press("Enter")
    expect(bots(page).nth(1)).to_contain_text("주거급여")
    page.route("**/api/v1/history*", lambda route: route.abort("failed"))
    page.reload()  # the session exists now: the widget asks for its history
    expect(page.locator(".bw-notice")).to_contain_text("이전 대화를 불러오지 못했어요")
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(bots(page).nth(1)).to_contain_text("349,700원")


def test_the_widget_works_embedded_in_a_page_of_another_origin(page: Page, tmp_path: Path) -> None:
    """The city's own styles cannot reach the widget, and the API answers the configured city origin."""
    from playwright.sync_api import expect

    with city_page() as city:
        widget_site, server = serve(tmp_path, widget=WidgetSettings(allowed_origins=[city.origin]))
        city.widget_url = widget_site.url
        try:
            page.goto(city.origin + "/")
            page.get_by_role("button", name="복지 안내 챗봇 열기").click()
            field = page.get_by_label("질문 입력")
            expect(field).to_be_focused()
            assert field.evaluate("node => parseFloat(getComputedStyle(node).fontSize)") >= 16
            field.fill(QUESTION)
            page.keyboard.press("Enter")
            expect(bots(page).nth(1)).to_contain_text("349,700원")
        finally:
            server.close()


def test_a_city_origin_that_is_not_allowed_gets_a_korean_notice(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    with city_page() as city:
        city.widget_url = site.url
        page.goto(city.origin + "/")
        page.get_by_role("button", name="복지 안내 챗봇 열기").click()
        page.get_by_label("질문 입력").fill(QUESTION)
        page.keyboard.press("Enter")  # the browser refuses the session request (CORS): no conversation opens
        expect(page.locator(".bw-notice").last).to_contain_text("서버에 연결할 수 없어요")
    assert site.engine.sent == []


# ---- a person takes over (the test acts as the agent through the handoff service) ----------------------
def ask_for_a_person(page: Page, site: Site) -> HandoffService:
    """Open the widget and press 상담원 연결: an honest queue notice with 129 and a way back to the bot."""
    from playwright.sync_api import expect

    open_widget(page, site.url)
    page.get_by_role("button", name="상담원 연결").click()
    notice = bots(page).nth(2)
    expect(notice).to_contain_text("129")  # nobody has the console open: when to expect a reply, and 129 meanwhile
    expect(notice.get_by_role("button", name="대기 취소하고 챗봇과 계속하기")).to_be_visible()
    expect(page.get_by_role("button", name="상담원 연결 요청됨")).to_be_visible()
    assert site.app is not None
    return site.app.extensions["bokji.handoffs"]


def test_a_person_joins_types_and_replies_live_and_after_a_reload(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    handoffs = ask_for_a_person(page, site)
    [waiting] = handoffs.queue()
    sender = waiting.sender_id
    kim = staff(handoffs, "kim", name="김상담")

    handoffs.claim(waiting.id, kim)
    expect(bots(page).last).to_contain_text(JOINED, timeout=2000)
    expect(page.get_by_role("button", name="상담원과 상담 중")).to_be_visible()
    expect(page.get_by_role("button", name="대기 취소하고 챗봇과 계속하기")).to_have_count(0)  # no longer waiting
    expect(bots(page).last.get_by_role("button", name="도움이 됐어요")).to_have_count(0)  # a notice, not an answer

    indicator = page.locator(".bw-agent-typing")
    handoffs.agent_typing(waiting.id, kim)
    expect(indicator).to_have_text("상담원이 입력하고 있어요…", timeout=2000)
    expect(indicator).to_be_hidden(timeout=9000)  # no new keystroke news: it goes away by itself

    handoffs.agent_typing(waiting.id, kim)
    expect(indicator).to_be_visible(timeout=2000)
    reply = "안녕하세요, 상담원이에요. 어떤 점이 궁금하세요?"
    handoffs.reply(waiting.id, kim, reply)
    agent = page.locator(".bw-agent")
    expect(agent).to_have_count(1, timeout=2000)
    expect(agent.locator(".bw-who")).to_have_text("상담원: ")  # the word is visible; the colon is for screen readers
    expect(agent.locator(".bw-text")).to_have_text(reply)
    expect(indicator).to_be_hidden()  # the message came: the indicator goes at once
    expect(page.locator(".bw-panel")).not_to_contain_text("김상담")

    # The citizen answers: the agent sees them typing, the bot stays silent and no error shows.
    page.get_by_label("질문 입력").fill("기초연금 신청 서류가 궁금해요")
    deadline = time.monotonic() + 3
    while not getattr(handoffs.active(sender), "citizen_typing", False) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert getattr(handoffs.active(sender), "citizen_typing", False), "the console is told the citizen is typing"
    page.keyboard.press("Enter")
    expect(page.locator(".bw-citizen").last).to_contain_text("기초연금 신청 서류가 궁금해요")
    expect(page.locator(".bw-typing")).to_be_hidden()
    expect(page.locator(".bw-notice")).to_have_count(0)
    assert [text for _, text in site.engine.sent] == ["/request_human"], "no bot answer while a person has the chat"

    found = serious_violations(page)
    assert found == [], "with an agent's message on screen:\n" + describe(found)
    page.screenshot(path=str(ARTIFACTS / "widget-agent-reply.png"))

    page.reload()
    expect(page.locator(".bw-agent .bw-text")).to_have_text(reply)
    expect(bots(page).filter(has_text=JOINED)).to_have_count(1)
    expect(page.get_by_role("button", name="상담원과 상담 중")).to_be_visible()
    handoffs.reply(waiting.id, kim, "신분증과 통장 사본을 준비해 주세요.")
    expect(page.locator(".bw-agent")).to_have_count(2, timeout=2000)  # listening again after the reload

    handoffs.return_to_bot(waiting.id, kim)
    expect(bots(page).last).to_contain_text(RETURNED, timeout=2000)
    expect(page.get_by_role("button", name="상담원 연결", exact=True)).to_be_visible()
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(bots(page).last).to_contain_text("349,700원")


def test_the_citizen_cancels_waiting_and_the_bot_answers_again(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    handoffs = ask_for_a_person(page, site)
    page.get_by_label("질문 입력").fill("언제쯤 연결되나요?")
    page.keyboard.press("Enter")
    expect(bots(page).last).to_contain_text("기다리고 있어요")
    bots(page).last.get_by_role("button", name="대기 취소하고 챗봇과 계속하기").click()
    expect(bots(page).last).to_contain_text(CANCELLED)
    expect(page.get_by_role("button", name="상담원 연결", exact=True)).to_be_visible()
    assert handoffs.queue() == []
    page.get_by_label("질문 입력").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(bots(page).last).to_contain_text("349,700원")
    assert [text for _, text in site.engine.sent] == ["/request_human", QUESTION]


# ---- the real stack -------------------------------------------------------------------------------------
def test_main_flow_against_the_real_stack(page: Page, stack: RunningStack) -> None:
    shot = ARTIFACTS / "widget-phone.png"
    main_flow(page, stack.web, shot, timeout_ms=30000)
    (ROOT / "docs").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "docs" / "widget-phone.png")
    # The rating is kept with the server-issued session the widget holds (the stack is shared with other tests).
    session = page.evaluate("() => localStorage.getItem('bokji.widget.session')")
    db = sqlite3.connect(stack.data_dir / "conversations.sqlite3")
    assert db.execute("SELECT rating FROM feedback WHERE sender_id = ?", (f"web:{session}",)).fetchall() == [("up",)]


def test_a_generated_answer_streams_in_the_widget_against_the_real_stack(page: Page, stack: RunningStack) -> None:
    """The in-process model writes the answer; the widget shows a streaming bubble, then the final message."""
    from playwright.sync_api import expect

    open_widget(page, stack.web)
    page.evaluate(
        """() => {
          const log = document.querySelector('#bokji-widget').shadowRoot.querySelector('.bw-log');
          window.__streaming = false;
          new MutationObserver(() => { if (log.querySelector('.bw-streaming')) window.__streaming = true; })
            .observe(log, { childList: true, subtree: true });
        }"""
    )
    page.get_by_label("질문 입력").fill("의료급여 선정기준은 몇 퍼센트인가요?")
    page.keyboard.press("Enter")
    answer = bots(page).nth(1)
    expect(answer.locator(".bw-sources a").first).to_be_visible(timeout=60000)
    expect(answer).not_to_have_class(re.compile("bw-streaming"))
    assert page.evaluate("() => window.__streaming"), "the answer was shown as a streaming bubble first"
    expect(answer.locator(".bw-text .bw-sr")).to_contain_text("[1]")
    expect(answer.locator(".bw-text .bw-sr")).to_contain_text("129")
