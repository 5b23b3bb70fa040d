"""The operations dashboard in a real browser: charts drawn by the vendored Chart.js under the console's CSP, axe-clean.

The web app runs in process under waitress on a free port, with two weeks of seeded conversations (the
dashboard needs no Rasa); its screenshot goes to test-artifacts/ and docs/console-ops.png (README).
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from waitress.server import create_server

from channels.app import create_app
from channels.settings import AppSettings
from channels.store.database import Database
from channels.store.models import Feedback, Handoff, Turn
from tests.axe import describe, serious_violations
from tests.unit.fakes import RecordingPublisher, ScriptedRasa
from tests.unit.staff_support import PASSWORD, make_staff

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SEOUL = ZoneInfo("Asia/Seoul")
QUESTIONS_NOT_ANSWERED = [
    "우주 여행 보조금 있나요",
    "반려동물 양육 수당 신청",
    "전기차 충전 지원금 얼마예요",
    "해외 이주 정착금 문의",
]


def seed_two_weeks(database: Database, today: datetime) -> None:
    """Fourteen days of a small city's conversations: weekday peaks, a few handoffs, ratings and slow answers."""
    rng = random.Random(14)
    with database.session() as session:
        for back in range(13, -1, -1):
            day = (today - timedelta(days=back)).date()
            weekend = day.weekday() >= 5
            for n in range(rng.randint(4, 8) if weekend else rng.randint(14, 26)):
                sender = f"web:ops-{day.isoformat()}-{n}"
                moment = datetime.combine(day, time(9 + n % 9, rng.randint(0, 59)), SEOUL).astimezone(timezone.utc)
                unanswered = rng.random() < 0.12
                question = rng.choice(QUESTIONS_NOT_ANSWERED) if unanswered else "기초연금 얼마 받을 수 있어요?"
                session.add(Turn(sender_id=sender, role="citizen", text=question, meta="{}", created_at=moment))
                mode = "none" if unanswered else rng.choice(["faq", "faq", "faq", "extractive", "generated"])
                took = rng.uniform(40, 120) if mode == "faq" else rng.uniform(300, 6000 if mode == "generated" else 900)
                meta = json.dumps({"mode": mode, "decision": {"total_ms": round(took, 1)}})
                bot = Turn(sender_id=sender, role="bot", text="답변", meta=meta, created_at=moment + timedelta(seconds=1))
                session.add(bot)
                session.flush()
                if rng.random() < 0.3:
                    rating = "down" if unanswered or rng.random() < 0.15 else "up"
                    session.add(Feedback(turn_id=bot.id, sender_id=sender, rating=rating, created_at=bot.created_at))
                if unanswered and rng.random() < 0.5:
                    session.add(Handoff(sender_id=sender, channel="web", state="closed", reason="unanswered", created_at=moment))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web app with seeded data on a free loopback port (waitress, as `bokji run` serves it)."""
    settings = AppSettings(data_dir=tmp_path_factory.mktemp("ops"))
    app = create_app(settings, engine=ScriptedRasa(), publisher=RecordingPublisher())  # type: ignore[arg-type]
    make_staff(app, "ops-admin", "admin", name="운영관리")
    seed_two_weeks(app.extensions["bokji.database"], datetime.now(SEOUL))
    server = create_server(app, host="127.0.0.1", port=_free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    server.close()


def test_the_dashboard_draws_its_charts_keyboard_first_and_axe_clean(browser: Browser, web: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Errors in the console: a blocked script or style (CSP), a failed load; Chromium's own /favicon.ico probe aside.
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.text} {message.location['url']}")
            if message.type == "error" and not message.location["url"].endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{web}/console/login?next=/console/operations")
    page.get_by_label("아이디").fill("ops-admin")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    expect(page.get_by_role("heading", level=1)).to_have_text("운영 현황")
    # Every chart is a Chart.js chart with data (the CSP allowed the vendored script and its canvas styling).
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].map((c) => {"
        "  const chart = Chart.getChart(c); return chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : -1; })"
    )
    assert len(drawn) == 5 and all(count > 0 for count in drawn), drawn
    table = page.locator("#days-table tbody tr")
    expect(table).to_have_count(14)
    expect(page.locator("#topics-table")).to_contain_text("우주 여행 보조금 있나요")
    # The date range form is reachable and usable by keyboard alone.
    page.get_by_label("시작 날짜").focus()
    expect(page.get_by_label("시작 날짜")).to_be_focused()
    assert serious_violations(page) == [], describe(serious_violations(page))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-ops.png"), full_page=True)
    shutil.copy(ARTIFACTS / "console-ops.png", ROOT / "docs" / "console-ops.png")
    # The CSV link downloads the same day table.
    with page.expect_download() as download:
        page.get_by_role("link", name="날짜별 수치 CSV 내려받기").click()
    saved = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert saved[0].startswith("날짜,대화 수") and len(saved) == 16  # heading, 14 days, the range's total
    context.close()
    assert problems == [], problems
