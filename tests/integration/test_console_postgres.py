"""The staff console over HTTP on a real PostgreSQL server: sign-in, the whole chat lifecycle, a claim race."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from channels.app import create_app
from channels.settings import AppSettings, RateLimitSettings
from tests.citizen_support import TEST_API_KEYS, SessionHoldingClient
from tests.unit.fakes import RecordingPublisher, ScriptedRasa
from tests.unit.staff_support import make_staff
from tests.unit.test_console import Staff, cheap_hashes, history, say

pytestmark = pytest.mark.integration

HANDOFF = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]


@pytest.fixture(autouse=True)
def _citizen_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the unit tier: the app knows the test API key, its test clients hold the tokens of the sessions they name."""
    monkeypatch.setenv("BOKJI_API_KEYS", TEST_API_KEYS)
    monkeypatch.setattr(Flask, "test_client_class", SessionHoldingClient)


@pytest.fixture(scope="module")
def pg_app(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, ScriptedRasa]]:
    rasa = ScriptedRasa()
    data_dir: Path = tmp_path_factory.mktemp("console-pg")
    # Many sign-ins from one address in a few seconds: the sign-in limit is not what these tests check.
    limits = RateLimitSettings(login="100000/minute", handoffs="100000/hour")
    settings = AppSettings(data_dir=data_dir, database_url=postgres_url, rate_limit=limits)
    app = cheap_hashes(create_app(settings, engine=rasa, publisher=RecordingPublisher()))  # type: ignore[arg-type]
    make_staff(app, "pg-agent-kim", "agent", name="김상담")
    make_staff(app, "pg-agent-park", "agent", name="박상담")
    make_staff(app, "pg-admin", "admin", name="최관리")
    yield app, rasa
    app.extensions["bokji.database"].dispose()


def _queued(app: Flask, rasa: ScriptedRasa, session: str) -> int:
    rasa.reply = HANDOFF
    say(app, session, "/request_human")
    kim = Staff(app, "pg-agent-kim")
    items = kim.get("/console/api/queue").get_json()["queue"]
    return next(int(i["id"]) for i in items if i["sender_id"] == f"web:{session}")


def test_the_whole_lifecycle_over_http_on_postgresql(pg_app: tuple[Flask, ScriptedRasa]) -> None:
    app, rasa = pg_app
    assert app.extensions["bokji.database"].engine.dialect.name == "postgresql"
    chat = _queued(app, rasa, "pg-life")
    kim = Staff(app, "pg-agent-kim")
    assert kim.post(f"/console/api/chats/{chat}/claim").status_code == 200
    assert kim.post(f"/console/api/chats/{chat}/reply", {"text": "안녕하세요, 김상담이에요."}).status_code == 200
    assert kim.post(f"/console/api/chats/{chat}/note", {"text": "내부 메모: 소득 확인 필요"}).status_code == 200
    rasa.sent.clear()
    assert say(app, "pg-life", "네 안녕하세요")["messages"] == [] and rasa.sent == []
    assert kim.post(f"/console/api/chats/{chat}/return").status_code == 200
    texts = [m["text"] for m in history(app, "pg-life")]
    assert "안녕하세요, 김상담이에요." in texts and "내부 메모: 소득 확인 필요" not in texts
    assert texts[-1].startswith("상담원과의 상담이 끝났어요")
    admin = Staff(app, "pg-admin")
    actions = [e["action"] for e in admin.get("/console/api/audit").get_json()["entries"]]
    assert {"requested", "claimed", "replied", "noted", "returned"} <= set(actions)


def test_two_agents_claiming_over_http_at_the_same_moment_one_wins_one_is_told(pg_app: tuple[Flask, ScriptedRasa]) -> None:
    app, rasa = pg_app
    for round_ in range(10):
        chat = _queued(app, rasa, f"pg-race-{round_}")
        agents = {"kim": Staff(app, "pg-agent-kim"), "park": Staff(app, "pg-agent-park")}
        barrier = threading.Barrier(2)
        results: dict[str, Any] = {}

        def claim(name: str, chat: int = chat, barrier: threading.Barrier = barrier, results: dict[str, Any] = results) -> None:
            barrier.wait()
            response = agents[name].post(f"/console/api/chats/{chat}/claim")
            results[name] = (response.status_code, response.get_json())

        threads = [threading.Thread(target=claim, args=(name,)) for name in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(code for code, _ in results.values())
        assert statuses == [200, 409], results
        winner = next(n for n, (code, _) in results.items() if code == 200)
        loser_body = next(body for code, body in results.values() if code == 409)
        holder = "김상담" if winner == "kim" else "박상담"
        assert loser_body["error"]["message"] == f"{holder}님이 이미 이 상담을 맡았어요."


def test_the_operations_report_reads_the_same_figures_on_postgresql(pg_app: tuple[Flask, ScriptedRasa]) -> None:
    """The dashboard extracts JSON fields in the database: PostgreSQL (JSONB) must count as SQLite does."""
    from datetime import date

    from channels.console.operations import Operations
    from tests.unit.test_operations_dashboard import EXPECTED_DAYS, seed

    app, _ = pg_app
    seed(app.extensions["bokji.database"])  # March 2026: no other test of this module writes there
    report = Operations(app.extensions["bokji.database"]).report(date(2026, 3, 1), date(2026, 3, 2))
    assert [day.row() for day in report.days] == EXPECTED_DAYS
    assert [(t.question, t.count) for t in report.topics][0] == ("우주 여행 보조금 있나요", 2)
    admin = Staff(app, "pg-admin")
    assert admin.get("/console/operations?from=2026-03-01&to=2026-03-02").status_code == 200
