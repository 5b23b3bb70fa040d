"""A welfare team changes an answer in the browser and the bot says it within 5 seconds, on the real stack.

Real Rasa, action server and web app (`stack` fixture); the editor's and the admin's accounts are made
with the operator command (`bokji user add ... --password-stdin`). The test edits the seed FAQ that answers
"기초연금 얼마 받을 수 있어요?" and rolls it back at the end (a teardown rolls back too if an assertion
fails midway), so later tests on the shared stack see the seed text. Screenshots go to test-artifacts/ and
docs/ (README).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.axe import describe, serious_violations
from tests.citizen_support import API_AUTH
from tests.integration.conftest import RunningStack
from tests.integration.test_widget_browser import ARTIFACTS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PASSWORD = "지식관리-비밀번호-2026"
EDITOR, ADMIN = ("e2e-faq-editor", "김편집"), ("e2e-faq-admin", "최관리")
ENTRY = "basic-pension-amount"  # knowledge/seed/faq/basic_pension.yaml: the entry that answers QUESTION
QUESTION = "기초연금 얼마 받을 수 있어요?"
OLD = "기준연금액(최대 지급액)은 월 349,700원"
NEW = "기준연금액(최대 지급액)은 월 351,230원"
REACH_S = 5.0  # "within 5 s" in the issue


def _bokji(stack: RunningStack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # The stack's own copy of the index (tests/integration/conftest.py), so `bokji ingest` publishes where it answers from.
    store = str(stack.data_dir / "knowledge.sqlite3")
    env = dict(os.environ, BOKJI_DATA_DIR=str(stack.data_dir), BOKJI_KNOWLEDGE__STORE__PATH=store, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bokji", *args], input=stdin, text=True, capture_output=True, env=env,
                          cwd=ROOT, timeout=600, check=False)  # fmt: skip


def bot_says(stack: RunningStack, text: str) -> str:
    """Everything the bot answers to ``text`` in a fresh conversation."""
    body = {"session_id": f"e2e-admin-{uuid.uuid4().hex[:12]}", "text": text}
    response = httpx.post(f"{stack.web}/api/v1/chat", json=body, headers=API_AUTH, timeout=60)
    assert response.status_code == 200, response.text
    return " ".join(str(m.get("text") or "") for m in response.json()["messages"])


def seconds_until_bot_says(stack: RunningStack, expected: str, limit_s: float) -> float:
    """Ask again and again from now until an answer contains ``expected``; how long it took (fails past the limit)."""
    started = time.monotonic()
    last = ""
    while time.monotonic() - started <= limit_s + 5:
        last = bot_says(stack, QUESTION)
        if expected in last:
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"the bot did not say {expected!r} within {limit_s} s; its last answer: {last[:300]}")


class HttpAdmin:
    """The admin without a browser (setup checks and the safety-net rollback).

    The session cookie is Secure; browsers send it to localhost over http, httpx's cookie jar does not, so the
    cookies are carried by hand.
    """

    def __init__(self, stack: RunningStack) -> None:
        self.client = httpx.Client(base_url=stack.web, timeout=60, follow_redirects=False)
        self.cookies: dict[str, str] = {}
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get("/console/login").text)
        assert token, "no CSRF token on the sign-in page"
        form = {"username": ADMIN[0], "password": PASSWORD, "csrf_token": token[1], "next": ""}
        signed = self.post("/console/login", form)
        assert signed.status_code == 302, signed.text[:500]

    def get(self, path: str, **params: str) -> httpx.Response:
        return self._keep(self.client.get(path, params=params, headers=self._cookie()))

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self._keep(self.client.post(path, data=data, headers=self._cookie()))

    def _cookie(self) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def entry_page(self) -> httpx.Response:
        return self.get(f"/admin/faqs/{ENTRY}")

    def restore(self) -> None:
        """Publish the seed text (version 1) again unless the live version already says the same."""
        versions = self.get(f"/admin/faqs/{ENTRY}/versions").text
        live = re.search(r'<tr class="live-version">\s*<th scope="row">버전 (\d+)</th>', versions)
        if live:
            same = self.get(f"/admin/faqs/{ENTRY}/diff", a="1", b=live[1]).text
            if "두 버전의 내용이 같아요" in same:
                return
        token = re.search(r'name="csrf-token" content="([^"]+)"', versions)
        assert token
        restored = self.post(f"/admin/faqs/{ENTRY}/rollback", {"csrf_token": token[1], "version": "1"})
        assert restored.status_code == 302, restored.text[:500]

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="module")
def accounts(stack: RunningStack) -> Iterator[HttpAdmin]:
    for (username, name), role in ((EDITOR, "editor"), (ADMIN, "admin")):
        made = _bokji(stack, "user", "add", username, "--name", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    admin = HttpAdmin(stack)
    if admin.entry_page().status_code == 404:  # the seed FAQs reach the database through `bokji ingest`
        ingested = _bokji(stack, "ingest")
        assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert admin.entry_page().status_code == 200, f"{ENTRY} is not in the staff database"
    yield admin
    admin.restore()  # whatever happened above, later tests see the seed text
    admin.close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[Page, Page]]:
    editor_context = browser.new_context(viewport=DESKTOP, locale="ko-KR")
    admin_context = browser.new_context(viewport=DESKTOP, locale="ko-KR")
    editor, admin = editor_context.new_page(), admin_context.new_page()
    errors: list[str] = []
    for page in (editor, admin):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield editor, admin
    editor_context.close()
    admin_context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def sign_in(page: Page, web: str, username: str, path: str) -> None:
    from playwright.sync_api import expect

    page.goto(web + path)
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("아이디").fill(username)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    expect(page).to_have_url(web + path)


def no_serious_violations(page: Page, what: str) -> None:
    found = serious_violations(page)
    assert found == [], f"{what}: {describe(found)}"


def test_an_edit_reaches_the_bot_within_5_seconds_and_a_rollback_brings_the_old_text_back(
    stack: RunningStack, accounts: HttpAdmin, contexts: tuple[Page, Page]
) -> None:
    from playwright.sync_api import expect

    editor, admin = contexts
    ARTIFACTS.mkdir(exist_ok=True)
    assert OLD in bot_says(stack, QUESTION), "the seed answer is not what the bot says before the edit"

    # The editor finds the entry in the list and opens it.
    sign_in(editor, stack.web, EDITOR[0], "/admin/faqs")
    editor.get_by_label("검색어").fill("기초연금 얼마")
    editor.get_by_role("button", name="찾기").click()
    expect(editor.locator(".faq-table")).to_contain_text(ENTRY)
    no_serious_violations(editor, "FAQ list")
    editor.screenshot(path=str(ARTIFACTS / "admin-list.png"))
    editor.locator(f'.faq-table a[href="/admin/faqs/{ENTRY}"]').click()
    expect(editor.get_by_role("heading", level=1)).to_have_text("FAQ 고치기")

    # Edits the amount and asks for review.
    answer = editor.locator("#f-answer")
    text = answer.input_value()
    assert OLD in text
    answer.fill(text.replace(OLD, NEW))
    no_serious_violations(editor, "edit page")
    editor.screenshot(path=str(ARTIFACTS / "admin-edit.png"), full_page=True)
    editor.get_by_role("button", name="검토 요청").click()
    expect(editor.locator(".flash")).to_contain_text("검토를 요청했어요")
    expect(editor.locator(".entry-state")).to_contain_text("검토 대기")
    assert OLD in bot_says(stack, QUESTION), "the bot used an edit nobody approved"

    # The admin, in a second browser, approves it from the review queue.
    sign_in(admin, stack.web, ADMIN[0], "/admin/review")
    admin.get_by_role("link", name="기초연금은 한 달에 얼마 받을 수 있나요?", exact=True).click()
    admin.get_by_role("button", name="승인하고 게시").click()
    approved_at = time.monotonic()
    expect(admin.locator(".flash")).to_contain_text("승인하고 게시했어요")
    seconds_until_bot_says(stack, NEW, REACH_S)
    took = time.monotonic() - approved_at  # from the click: the publish itself counts
    print(f"published edit reached the bot after {took:.2f} s")  # noqa: T201
    assert took <= REACH_S, f"the approved edit took {took:.1f} s to reach the bot"

    # Versions and the side-by-side comparison of the seed text and the edit.
    admin.goto(f"{stack.web}/admin/faqs/{ENTRY}/versions")
    admin.get_by_role("button", name="비교하기").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("버전 비교")
    answer_row = admin.locator("tr.changed", has=admin.get_by_role("rowheader", name="답변"))
    expect(answer_row).to_contain_text("▲ 바뀜")
    expect(answer_row.locator("del")).to_contain_text("349,700")
    expect(answer_row.locator("ins")).to_contain_text("351,230")
    no_serious_violations(admin, "diff page")
    admin.screenshot(path=str(ARTIFACTS / "admin-diff.png"), full_page=True)

    # One click (and a confirmation) back to the seed text; the old answer returns within 5 s.
    admin.goto(f"{stack.web}/admin/faqs/{ENTRY}/versions")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="이 버전으로 되돌리기 (버전 1)").click()
    rolled_at = time.monotonic()
    expect(admin.locator(".flash")).to_contain_text("버전 1의 내용으로 되돌려 게시했어요")
    seconds_until_bot_says(stack, OLD, REACH_S)
    took = time.monotonic() - rolled_at
    print(f"rollback reached the bot after {took:.2f} s")  # noqa: T201
    assert took <= REACH_S, f"the rollback took {took:.1f} s to reach the bot"

    # The dashboard, as the team sees it every morning.
    admin.goto(f"{stack.web}/admin")
    expect(admin.get_by_role("heading", level=1)).to_have_text("대시보드")
    no_serious_violations(admin, "dashboard")
    admin.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)
    for name in ("admin-edit.png", "admin-diff.png", "admin-dashboard.png"):
        shutil.copy(ARTIFACTS / name, ROOT / "docs" / name)


HWP = ROOT / "tests" / "fixtures" / "documents" / "noori-press-release-2018.hwp"
HWP_TITLE = "우리가 독자 개발하여 최초 발사하는 한국형발사체, 국민이 정한 그 이름은 「누리」"


def test_an_uploaded_hwp_is_answered_from_and_every_admin_screen_passes_axe(
    stack: RunningStack, accounts: HttpAdmin, contexts: tuple[Page, Page]
) -> None:
    from playwright.sync_api import expect

    _, admin = contexts
    sign_in(admin, stack.web, ADMIN[0], "/admin/documents")
    no_serious_violations(admin, "documents")
    admin.get_by_label(re.compile("문서 파일")).set_input_files(str(HWP))
    admin.get_by_role("button", name="올리기").click()
    expect(admin).to_have_url(re.compile(r"/admin/documents/[a-z0-9-]+$"))  # the document's own page
    document_page = admin.url
    deadline = time.monotonic() + 120
    while admin.locator(".badge.doc-indexed").count() == 0:  # the status badge (the flash message names it too)
        assert time.monotonic() < deadline, "the HWP was not indexed within 2 minutes"
        time.sleep(2)
        admin.goto(document_page)
    expect(admin.locator("main")).to_contain_text("6,300")  # a chunk of the real press release, clean text
    no_serious_violations(admin, "document page")
    for path in ("/admin/import", "/admin/inbox", "/admin/faqs", "/admin/review", "/admin/test"):
        admin.goto(stack.web + path)
        no_serious_violations(admin, path)
    admin.get_by_label("시민이 이렇게 물으면").fill("기초연금 얼마 받을 수 있어요?")
    admin.get_by_role("button", name="시험하기").click()
    expect(admin.locator(".test-result")).to_contain_text("349,700", timeout=60_000)
    no_serious_violations(admin, "test box result")
    # The bot's answer path (the action server) answers from the uploaded HWP and names it as the source.
    admin.get_by_label("시민이 이렇게 물으면").fill("한국형발사체 명칭 공모에 국민이 몇 명 참여했나요?")
    admin.get_by_role("button", name="시험하기").click()
    expect(admin.locator(".test-result")).to_contain_text("6,300", timeout=60_000)
    expect(admin.locator(".test-result")).to_contain_text(HWP_TITLE)
