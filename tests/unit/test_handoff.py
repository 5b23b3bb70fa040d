"""The handoff state machine on SQLite: every transition, who may do it, and what the citizen is told."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from channels.handoff import CLOSED, JOINED, RETURNED, ClaimConflictError, HandoffError, HandoffService
from channels.store.models import utcnow
from tests.handoff_support import build, staff


@pytest.fixture
def service(tmp_path: Path) -> HandoffService:
    return build(f"sqlite:///{tmp_path / 'staff.sqlite3'}")


def said(service: HandoffService, sender: str) -> list[str]:
    return [t["text"] for t in service.transcripts.turns(sender)]


def test_queue_puts_urgent_first_then_the_longest_waiting(service: HandoffService) -> None:
    service.request("web:a", "requested")
    service.request("web:b", "unanswered")
    service.request("web:c", "crisis", urgent=True)
    assert [v.sender_id for v in service.queue()] == ["web:c", "web:a", "web:b"]
    assert service.position(service.active("web:a").id) == 2  # type: ignore[union-attr]


def test_a_second_request_does_not_queue_twice_but_a_crisis_makes_it_urgent(service: HandoffService) -> None:
    first, created = service.request("web:a", "requested")
    again, created_again = service.request("web:a", "crisis", urgent=True)
    assert created and not created_again and first.id == again.id
    assert again.urgent and again.reason == "crisis"
    assert len(service.queue()) == 1


def test_claim_reply_return_tells_the_citizen_each_step(service: HandoffService) -> None:
    kim = staff(service, "kim", name="김상담")
    view, _ = service.request("web:a", "requested")
    claimed = service.claim(view.id, kim)
    assert claimed.state == "with_agent" and claimed.agent_name == "김상담"
    service.reply(view.id, kim, "안녕하세요, 무엇을 도와드릴까요?")
    returned = service.return_to_bot(view.id, kim)
    assert returned.state == "returned" and service.active("web:a") is None
    assert said(service, "web:a") == [JOINED, "안녕하세요, 무엇을 도와드릴까요?", RETURNED]
    roles = [t["role"] for t in service.transcripts.turns("web:a")]
    assert roles == ["bot", "agent", "bot"]


def test_the_loser_of_a_claim_is_told_who_has_it(service: HandoffService) -> None:
    kim, lee = staff(service, "kim", name="김상담"), staff(service, "lee", name="이상담")
    view, _ = service.request("web:a", "requested")
    service.claim(view.id, kim)
    with pytest.raises(ClaimConflictError) as lost:
        service.claim(view.id, lee)
    assert lost.value.status == 409 and "김상담" in lost.value.message
    assert service.get(view.id).agent_id == kim.id


def test_only_the_holder_replies_transfers_returns_or_closes(service: HandoffService) -> None:
    kim, lee, admin = staff(service, "kim"), staff(service, "lee"), staff(service, "boss", "admin")
    editor = staff(service, "ed", "editor")
    view, _ = service.request("web:a", "requested")
    with pytest.raises(HandoffError) as not_claimed:
        service.reply(view.id, kim, "먼저 답해요")
    assert not_claimed.value.status == 409
    service.claim(view.id, kim)
    for act in (lambda: service.reply(view.id, lee, "제가 할게요"), lambda: service.return_to_bot(view.id, lee),
                lambda: service.close(view.id, lee, "중복")):  # fmt: skip
        with pytest.raises(HandoffError) as refused:
            act()
        assert refused.value.status == 403
    with pytest.raises(HandoffError) as editors_out:
        service.claim(view.id, editor)
    assert editors_out.value.status == 403
    service.reply(view.id, admin, "관리자가 이어서 답해요")  # an admin may step in
    moved = service.transfer(view.id, kim, lee.id)
    assert moved.agent_id == lee.id
    service.reply(view.id, lee, "넘겨받았어요")
    closed = service.close(view.id, lee, "안내 완료")
    assert closed.state == "closed" and closed.close_reason == "안내 완료"
    assert said(service, "web:a")[-1] == CLOSED
    with pytest.raises(HandoffError):
        service.reply(view.id, lee, "끝난 상담")


def test_transfer_only_to_an_active_agent(service: HandoffService) -> None:
    kim, editor = staff(service, "kim"), staff(service, "ed", "editor")
    view, _ = service.request("web:a", "requested")
    service.claim(view.id, kim)
    for target in (editor.id, 9999, kim.id):
        with pytest.raises(HandoffError) as refused:
            service.transfer(view.id, kim, target)
        assert refused.value.status == 400
    assert service.get(view.id).agent_id == kim.id


def test_the_citizen_may_cancel_only_while_waiting(service: HandoffService) -> None:
    kim = staff(service, "kim")
    view, _ = service.request("web:a", "requested")
    assert service.cancel("web:a") is not None and service.active("web:a") is None
    view, _ = service.request("web:a", "requested")
    service.claim(view.id, kim)
    assert service.cancel("web:a") is None and service.active("web:a").state == "with_agent"  # type: ignore[union-attr]


def test_empty_or_huge_replies_and_unknown_chats_are_refused_without_change(service: HandoffService) -> None:
    kim = staff(service, "kim")
    view, _ = service.request("web:a", "requested")
    service.claim(view.id, kim)
    before = said(service, "web:a")
    for bad in ("", "   ", "가" * 2001, None):
        with pytest.raises(HandoffError) as refused:
            service.reply(view.id, kim, bad)  # type: ignore[arg-type]
        assert refused.value.status == 400
    with pytest.raises(HandoffError) as unknown:
        service.claim(424242, kim)
    assert unknown.value.status == 404
    assert said(service, "web:a") == before


def test_notes_stay_internal(service: HandoffService) -> None:
    kim = staff(service, "kim", name="김상담")
    view, _ = service.request("web:a", "requested")
    service.note(view.id, kim, "기초연금 신청 이력 확인 필요")
    assert [n["text"] for n in service.notes(view.id)] == ["기초연금 신청 이력 확인 필요"]
    assert "기초연금 신청 이력 확인 필요" not in said(service, "web:a")


def test_an_urgent_chat_left_unclaimed_past_the_sla_is_escalated_once(service: HandoffService) -> None:
    view, _ = service.request("web:a", "crisis", urgent=True)
    service.request("web:b", "requested")
    assert service.escalate_overdue() == []
    later = utcnow() + timedelta(minutes=service.settings.urgent_sla_minutes + 1)
    assert service.escalate_overdue(later) == [view.id]
    assert service.escalate_overdue(later) == []
    assert service.get(view.id).escalated
    assert [e["action"] for e in service.audit()][0] == "escalated"


def test_every_transition_is_audited_and_the_log_cannot_be_changed(service: HandoffService) -> None:
    kim = staff(service, "kim", name="김상담")
    view, _ = service.request("web:a", "requested")
    service.opened(view.id, kim)
    service.claim(view.id, kim)
    service.reply(view.id, kim, "안녕하세요")
    service.close(view.id, kim, "안내 완료")
    log = service.audit()
    assert [e["action"] for e in reversed(log)] == ["requested", "opened", "claimed", "replied", "closed"]
    assert log[0]["actor"] == "김상담" and log[-1]["actor"] == "시스템"
    with service.database.engine.connect() as connection:
        for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"):
                connection.execute(text(statement))
    assert len(service.audit()) == 5


def test_typing_shows_for_a_few_seconds_only(service: HandoffService) -> None:
    kim = staff(service, "kim")
    view, _ = service.request("web:a", "requested")
    service.claim(view.id, kim)
    service.agent_typing(view.id, kim)
    service.citizen_typing("web:a")
    now = service.get(view.id)
    assert now.agent_typing and now.citizen_typing
    with service.database.session() as session:
        session.execute(text("UPDATE handoffs SET agent_typing_until = :t, citizen_typing_until = :t"),
                        {"t": utcnow() - timedelta(seconds=1)})  # fmt: skip
    later = service.get(view.id)
    assert not later.agent_typing and not later.citizen_typing


def test_live_events_follow_each_change_of_a_conversation(service: HandoffService) -> None:
    kim = staff(service, "kim")
    start = service.last_event_id()
    view, _ = service.request("web:a", "requested")
    service.request("web:b", "requested")
    service.claim(view.id, kim)
    kinds = [e["kind"] for e in service.events_after(start, "web:a")]
    assert kinds == ["state", "state", "turn"]  # queued, claimed, the join notice
    assert {e["sender_id"] for e in service.events_after(start)} == {"web:a", "web:b"}
