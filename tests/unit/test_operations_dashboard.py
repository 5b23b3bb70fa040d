"""The operations dashboard: the figures an admin would check by hand on seeded conversations, who may see them, CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.console.dashboard import RangeError, parse_range
from channels.console.operations import Operations, percentile
from channels.store.database import Database
from channels.store.models import Feedback, Handoff, Turn
from tests.unit.fakes import ScriptedRasa
from tests.unit.staff_support import make_staff, sign_in

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in Seoul, as the database keeps it (UTC)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SEOUL).astimezone(timezone.utc)


def seed(database: Database) -> None:
    """Two days of a small city, in the order things happened.

    1 March: a asks a FAQ (0.1 s, 👍); b asks twice what nobody can answer (0.3 s, 0.5 s) and is handed
    to a person; c writes in crisis (helplines and an urgent handoff; not a knowledge answer).
    2 March: a asks again (generated, 2 s, 👎); d writes at 23:30 Seoul time (still 2 March there).
    3 March 00:30 Seoul: e writes (outside the range, though it is still 2 March in UTC).
    """
    with database.session() as session:

        def turn(sender: str, role: str, text: str, when: datetime, **meta: Any) -> Turn:
            row = Turn(sender_id=sender, role=role, text=text, meta=json.dumps(meta, ensure_ascii=False), created_at=when)
            session.add(row)
            session.flush()
            return row

        turn("web:a", "citizen", "기초연금 얼마예요?", at(1, 10))
        liked = turn("web:a", "bot", "월 349,700원이에요.", at(1, 10), mode="faq", decision={"total_ms": 100.0})
        session.add(Feedback(turn_id=liked.id, sender_id="web:a", rating="up", created_at=at(1, 10, 1)))
        turn("web:b", "citizen", "우주 여행 보조금 있나요?", at(1, 11))
        turn("web:b", "bot", "확인할 수 없어요.", at(1, 11), mode="none", decision={"total_ms": 300.0})
        turn("web:b", "citizen", "우주 여행 보조금 있나요", at(1, 11, 2))
        turn("web:b", "bot", "확인할 수 없어요.", at(1, 11, 2), mode="none", decision={"total_ms": 500.0})
        session.add(Handoff(sender_id="web:b", channel="web", state="waiting", reason="unanswered", created_at=at(1, 11, 3)))
        turn("kakao:c", "citizen", "너무 힘들어요", at(1, 22))
        turn("kakao:c", "bot", "129에 전화해 주세요.", at(1, 22), mode="none", crisis="suicide", handoff={"urgent": True})
        session.add(
            Handoff(sender_id="kakao:c", channel="kakao", state="waiting", reason="crisis", urgent=True, created_at=at(1, 22))
        )
        turn("web:a", "citizen", "기초연금 신청은 어디서 해요?", at(2, 9))
        disliked = turn("web:a", "bot", "주민센터에서 해요.", at(2, 9), mode="generated", decision={"total_ms": 2000.0})
        session.add(Feedback(turn_id=disliked.id, sender_id="web:a", rating="down", created_at=at(2, 9, 5)))
        turn("web:d", "citizen", "안녕하세요", at(2, 23, 30))
        turn("web:e", "citizen", "늦은 질문", at(3, 0, 30))


# What the seeded days come to, counted by hand (shared with the PostgreSQL test in tests/integration).
EXPECTED_DAYS = [
    {
        "day": "2026-03-01", "conversations": 3, "messages": 4, "resolved_pct": 33.3, "handoffs": 2, "handoff_pct": 66.7,
        "fallback_pct": 66.7, "up": 1, "down": 0, "median_s": 0.3, "p95_s": 0.5,
    },
    {
        "day": "2026-03-02", "conversations": 2, "messages": 2, "resolved_pct": 100.0, "handoffs": 0, "handoff_pct": 0.0,
        "fallback_pct": 0.0, "up": 0, "down": 1, "median_s": 2.0, "p95_s": 2.0,
    },
]  # fmt: skip


def test_the_figures_are_what_an_admin_counts_by_hand(tmp_path: Any) -> None:
    database = Database(f"sqlite:///{tmp_path / 'ops.sqlite3'}")
    database.upgrade()
    seed(database)
    report = Operations(database, "Asia/Seoul").report(date(2026, 3, 1), date(2026, 3, 2))
    assert [day.row() for day in report.days] == EXPECTED_DAYS
    total = report.total.row()
    assert (total["conversations"], total["messages"], total["resolved_pct"], total["handoff_pct"]) == (4, 6, 50.0, 50.0)
    assert (total["fallback_pct"], total["up"], total["down"], total["median_s"], total["p95_s"]) == (50.0, 1, 1, 0.3, 2.0)
    # b's two wordings are one topic; a's 👎 answer is another; the crisis is no "unanswered topic"
    assert [(t.question, t.count) for t in report.topics] == [
        ("우주 여행 보조금 있나요", 2),  # the latest wording stands for the group
        ("기초연금 신청은 어디서 해요?", 1),
    ]


def test_an_empty_range_shows_dashes_not_zero_rates(tmp_path: Any) -> None:
    database = Database(f"sqlite:///{tmp_path / 'ops.sqlite3'}")
    database.upgrade()
    row = Operations(database).report(date(2026, 1, 1), date(2026, 1, 1)).days[0].row()
    assert row["conversations"] == 0 and row["resolved_pct"] is None and row["median_s"] is None


def test_percentiles_use_the_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0


def test_the_range_defaults_to_two_weeks_and_bad_ranges_are_explained_in_korean() -> None:
    assert parse_range(None, None, date(2026, 3, 14)) == (date(2026, 3, 1), date(2026, 3, 14))
    for raw_from, raw_to, words in [
        ("2026-13-01", None, "연-월-일"),
        ("2026-03-05", "2026-03-01", "늦어요"),
        ("2020-01-01", "2026-01-01", "366일"),
    ]:
        with pytest.raises(RangeError, match=words):
            parse_range(raw_from, raw_to, date(2026, 3, 14))


@pytest.fixture
def staffed(app: Flask) -> Flask:
    for name, role in (("agent1", "agent"), ("editor1", "editor"), ("admin1", "admin")):
        make_staff(app, name, role)
    seed(app.extensions["bokji.database"])
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, username)
    return client


def test_only_admins_see_the_dashboard(staffed: Flask) -> None:
    for name in ("agent1", "editor1"):
        assert signed_in(staffed, name).get("/console/operations").status_code == 403, name
    assert staffed.test_client().get("/console/operations").status_code in (302, 401)
    admin = signed_in(staffed, "admin1")
    page = admin.get("/console/operations?from=2026-03-01&to=2026-03-02")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "운영 현황" in html and "vendor/chart.umd.js" in html and 'id="days-table"' in html
    assert "우주 여행 보조금 있나요" in html  # the top unanswered topic
    assert admin.get("/console/operations?from=2026-03-09&to=2026-03-01").status_code == 400
    menu = signed_in(staffed, "agent1").get("/console").get_data(as_text=True)
    assert "운영 현황" not in menu


def test_the_csv_holds_the_day_table_and_the_topics(staffed: Flask) -> None:
    admin = signed_in(staffed, "admin1")
    response = admin.get("/console/operations?from=2026-03-01&to=2026-03-02&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "operations-days-2026-03-01-2026-03-02.csv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel opens Korean UTF-8 correctly with the BOM
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["날짜", "대화 수", "시민 메시지 수", "상담원 없이 해결(%)"]
    assert rows[1][:4] == ["2026-03-01", "3", "4", "33.3"]
    assert rows[3][0] == "2026-03-01~2026-03-02" and rows[3][1] == "4"
    topics = admin.get("/console/operations?from=2026-03-01&to=2026-03-02&format=csv&table=topics").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(topics.lstrip("\ufeff"))))[1] == ["1", "우주 여행 보조금 있나요", "2"]
    assert signed_in(staffed, "editor1").get("/console/operations?format=csv").status_code == 403


def test_the_chart_library_is_served_from_this_server_under_its_licence(client: FlaskClient) -> None:
    script = client.get("/console/static/vendor/chart.umd.js")
    assert script.status_code == 200 and b"Chart.js v4.5.1" in script.data[:200]
    assert client.get("/console/static/vendor/chart.js-LICENSE.md").status_code == 200
