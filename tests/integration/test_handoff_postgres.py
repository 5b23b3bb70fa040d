"""The handoff state machine on a real PostgreSQL server (started by tests/postgres.py, not a mock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from channels.handoff import ClaimConflictError, HandoffService
from tests.handoff_support import build, staff

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(postgres_url: str) -> Iterator[HandoffService]:
    built = build(postgres_url)
    yield built
    built.database.dispose()


def test_the_migrations_run_on_postgresql_and_the_lifecycle_works(service: HandoffService) -> None:
    assert service.database.engine.dialect.name == "postgresql"
    kim = staff(service, "pg-kim", name="김상담")
    view, created = service.request("web:pg-1", "requested")
    # Other tests share this server: the new request is among the waiting ones, after any urgent one.
    assert created and view.id in [v.id for v in service.queue() if v.state == "waiting"]
    service.claim(view.id, kim)
    turn_id = service.reply(view.id, kim, "안녕하세요, 상담원이에요.")
    service.return_to_bot(view.id, kim)
    turns = service.transcripts.turns("web:pg-1")
    assert turn_id in [t["id"] for t in turns] and turns[-1]["meta"]["handoff_state"] == "returned"
    assert service.active("web:pg-1") is None


def test_two_agents_claiming_at_the_same_moment_exactly_one_wins(service: HandoffService) -> None:
    kim, lee = staff(service, "race-kim", name="김상담"), staff(service, "race-lee", name="이상담")
    for round_ in range(25):
        view, _ = service.request(f"web:race-{round_}", "requested")
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(actor_name: str, actor: object) -> None:
            barrier.wait()
            try:
                service.claim(view.id, actor)  # type: ignore[arg-type]
                outcomes[actor_name] = "won"
            except ClaimConflictError as exc:
                outcomes[actor_name] = exc.message

        threads = [threading.Thread(target=claim, args=(n, a)) for n, a in (("kim", kim), ("lee", lee))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [n for n, o in outcomes.items() if o == "won"]
        assert len(winners) == 1, outcomes
        loser = "lee" if winners == ["kim"] else "kim"
        holder = "김상담" if winners == ["kim"] else "이상담"
        assert outcomes[loser] == f"{holder}님이 이미 이 상담을 맡았어요."
        assert service.get(view.id).agent_name == holder
        claims = [e for e in service.audit(limit=500) if e["handoff_id"] == view.id and e["action"] == "claimed"]
        assert len(claims) == 1


def test_the_audit_log_is_append_only_on_postgresql(service: HandoffService) -> None:
    service.request("web:pg-audit", "requested")
    before = len(service.audit(limit=10_000))
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), service.database.engine.begin() as connection:
            connection.execute(text(statement))
    assert len(service.audit(limit=10_000)) == before
