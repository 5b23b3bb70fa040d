"""A person really takes over: the citizen's widget and the staff console in two browser contexts, on the real stack.

Real Rasa, action server and web app (`stack` fixture); the agent's account is made with the operator
command (`bokji user add ... --password-stdin`). Screenshots go to test-artifacts/ and docs/ (README).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from channels.citizen_sessions import HEADER
from channels.handoff import Actor
from tests.axe import describe, serious_violations
from tests.citizen_support import open_http_session
from tests.handoff_support import build
from tests.integration.conftest import RunningStack
from tests.integration.test_widget_browser import ARTIFACTS, PHONE, ask_until_answered, bots, open_widget

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1366, "height": 768}
PASSWORD = "상담원-비밀번호-2026"
LIVE_MS = 2000  # "within 2 s" in the issue


def _bokji(stack: RunningStack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BOKJI_DATA_DIR=str(stack.data_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bokji", *args], input=stdin, text=True, capture_output=True, env=env,
                          cwd=ROOT, timeout=60, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def agent_login(stack: RunningStack) -> tuple[str, str]:
    made = _bokji(
        stack, "user", "add", "e2e-kim", "--name", "김상담", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    # Earlier tests on the shared stack left requests waiting: the shift starts with an empty queue.
    service = build(f"sqlite:///{stack.data_dir / 'conversations.sqlite3'}")
    made = _bokji(
        stack, "user", "add", "e2e-admin", "--name", "관리자", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    admin = next(a for a in service.agents() if a["name"] == "관리자")
    for view in service.queue():
        service.close(view.id, Actor(admin["id"], admin["name"], "admin"), "테스트 준비: 이전 대기 정리")
    service.database.dispose()
    return "e2e-kim", PASSWORD


@pytest.fixture
def two_contexts(browser: Browser) -> Iterator[tuple[Page, Page]]:
    citizen_context = browser.new_context(viewport=PHONE, locale="ko-KR", device_scale_factor=2, has_touch=True)
    agent_context = browser.new_context(viewport=DESKTOP, locale="ko-KR")
    citizen, agent = citizen_context.new_page(), agent_context.new_page()
    errors: list[str] = []
    for page in (citizen, agent):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield citizen, agent
    citizen_context.close()
    agent_context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def sign_in(agent: Page, web: str, login: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    agent.goto(f"{web}/console")
    expect(agent).to_have_url(f"{web}/console/login?next=/console")
    agent.get_by_label("아이디").fill(login[0])
    agent.get_by_label("비밀번호").fill(login[1])
    agent.get_by_role("button", name="로그인").click()
    expect(agent.locator("#queue-title")).to_be_visible()
    expect(agent.locator("#live-state")).not_to_have_text("실시간 연결 중…", timeout=10_000)


def test_a_person_takes_over_and_hands_back_to_the_bot(
    stack: RunningStack, agent_login: tuple[str, str], two_contexts: tuple[Page, Page]
) -> None:
    from playwright.sync_api import expect

    citizen, agent = two_contexts
    sign_in(agent, stack.web, agent_login)
    assert serious_violations(agent) == [], describe(serious_violations(agent))

    # The citizen asks for a person; the agent sees it at the top of the queue within 2 s.
    open_widget(citizen, stack.web)
    citizen.get_by_role("button", name="상담원 연결", exact=True).click()
    expect(bots(citizen).last).to_contain_text("129", timeout=60_000)
    first = agent.locator("#waiting-list > li").first
    expect(first).to_contain_text("상담 요청", timeout=LIVE_MS)

    # Claim: the citizen is told a person joined, live.
    first.get_by_role("link").click()
    agent.get_by_role("button", name="이 상담 맡기").click()
    expect(citizen.locator(".bw-bot").last).to_contain_text("상담원이 연결되었어요", timeout=LIVE_MS)

    # Reply: it reaches the widget within 2 s, without a reload.
    reply = "안녕하세요, 상담원 김상담이에요. 어떤 점을 도와드릴까요?"
    agent.get_by_label("시민에게 보낼 답장").fill(reply)
    agent.keyboard.press("Enter")
    expect(citizen.locator(".bw-agent").last).to_contain_text(reply, timeout=LIVE_MS)

    # The citizen answers; the agent sees it; no bot answer reaches the citizen while the agent has the chat.
    bot_messages = bots(citizen).count()
    question = "기초연금을 받고 싶은데 어머니가 66세세요"
    citizen.get_by_label("질문 입력").fill(question)
    citizen.keyboard.press("Enter")
    expect(agent.locator("#transcript")).to_contain_text(question, timeout=LIVE_MS)
    time.sleep(3)
    assert bots(citizen).count() == bot_messages, "the bot answered while a person had the chat"
    history = httpx.get(f"{stack.web}/api/v1/history", headers=_holder(citizen), timeout=10).json()
    assert history["handoff_state"] == "with_agent" and history["messages"][-1]["text"] == question
    ARTIFACTS.mkdir(exist_ok=True)
    agent.screenshot(path=str(ARTIFACTS / "console-chat.png"))
    citizen.screenshot(path=str(ARTIFACTS / "widget-with-agent.png"))
    assert serious_violations(agent) == [], describe(serious_violations(agent))
    assert serious_violations(citizen) == [], describe(serious_violations(citizen))

    # Back to the bot: the citizen is told, and the bot answers the next welfare question.
    agent.get_by_role("button", name="챗봇에게 돌려보내기").click()
    expect(citizen.locator(".bw-bot").last).to_contain_text("다시 챗봇이 답해 드려요", timeout=LIVE_MS)
    ask_until_answered(citizen, "기초연금 얼마 받을 수 있어요?", "349,700", timeout_ms=90_000)


def test_a_crisis_jumps_ahead_of_a_waiting_ordinary_request(
    stack: RunningStack, agent_login: tuple[str, str], two_contexts: tuple[Page, Page]
) -> None:
    from playwright.sync_api import expect

    _, agent = two_contexts
    sign_in(agent, stack.web, agent_login)
    chat = f"{stack.web}/api/v1/widget/chat"
    _, ordinary = open_http_session(stack.web)
    assert httpx.post(chat, json={"text": "/request_human"}, headers=ordinary, timeout=90).status_code == 200
    expect(agent.locator("#waiting-list > li").first).to_contain_text("상담 요청", timeout=LIVE_MS)
    _, in_crisis = open_http_session(stack.web)
    crisis = httpx.post(chat, json={"text": "요즘 너무 힘들어서 죽고 싶어요"}, headers=in_crisis, timeout=30)
    assert "109" in crisis.json()["messages"][0]["text"]
    top = agent.locator("#waiting-list > li").first
    expect(top).to_contain_text("위기 신호", timeout=LIVE_MS)
    expect(top).to_contain_text("긴급")
    expect(agent.locator("#waiting-list > li").nth(1)).to_contain_text("상담 요청")
    agent.screenshot(path=str(ARTIFACTS / "console-queue.png"))
    for name in ("console-chat.png", "console-queue.png", "widget-with-agent.png"):
        if (ARTIFACTS / name).exists():
            shutil.copy(ARTIFACTS / name, ROOT / "docs" / name)


def _holder(page: Page) -> dict[str, str]:
    """The header that holds the widget's session, with the token the page keeps."""
    return {HEADER: str(page.evaluate("() => localStorage.getItem('bokji.widget.token')"))}


def test_the_admin_screens_and_the_sign_in_page_have_no_serious_accessibility_violations(
    stack: RunningStack, agent_login: tuple[str, str], two_contexts: tuple[Page, Page]
) -> None:
    from playwright.sync_api import expect

    _, admin = two_contexts
    admin.goto(f"{stack.web}/console/login")
    assert serious_violations(admin) == [], describe(serious_violations(admin))
    sign_in(admin, stack.web, ("e2e-admin", PASSWORD))
    for path, heading in (("/console/canned", "상용구"), ("/console/audit", "감사 기록"), ("/console/account", "내 계정")):
        admin.goto(stack.web + path)
        expect(admin.get_by_role("heading", level=1)).to_contain_text(heading)
        assert serious_violations(admin) == [], f"{path}: {describe(serious_violations(admin))}"
    admin.goto(f"{stack.web}/console/audit")
    expect(admin.locator("table")).to_contain_text("맡음")  # the claim of the first test, in Korean
    expect(admin.locator("table")).not_to_contain_text("user_added")
    admin.screenshot(path=str(ARTIFACTS / "console-audit.png"))
