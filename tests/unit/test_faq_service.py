"""FaqService on SQLite with a fake publisher: what editors and admins notice in the knowledge admin."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from channels.admin.faqs import (
    CONFLICT_NOTE,
    FaqConflictError,
    FaqPermissionError,
    FaqService,
    FaqStateError,
    FaqValidationError,
)
from channels.handoff import Actor
from channels.settings import AdminSettings
from channels.store.database import Database
from channels.store.models import StaffUser
from knowledge.domain.faq import FaqEntry

OLD_ANSWER = "2026년 기초연금 기준연금액은 월 349,700원이에요."
NEW_ANSWER = "2026년 기초연금 기준연금액은 월 350,000원이에요."


class FakePublisher:
    """Records what would reach the search index; ``fail`` makes the next publish raise."""

    def __init__(self) -> None:
        self.live: dict[str, FaqEntry] = {}
        self.calls: list[tuple[str, list[str]]] = []
        self.fail = False

    def publish(self, entries: list[FaqEntry]) -> None:
        if self.fail:
            raise RuntimeError("index is down")
        self.calls.append(("publish", [e.id for e in entries]))
        self.live.update({e.id: e for e in entries})

    def unpublish(self, entry_ids: list[str]) -> None:
        self.calls.append(("unpublish", list(entry_ids)))
        for entry_id in entry_ids:
            self.live.pop(entry_id, None)


class Audit:
    def __init__(self) -> None:
        self.entries: list[tuple[Actor | None, str, dict[str, Any]]] = []

    def __call__(self, actor: Actor | None, action: str, detail: dict[str, Any]) -> None:
        self.entries.append((actor, action, detail))


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'staff.sqlite3'}")
    db.upgrade()
    return db


def _staff(database: Database, username: str, role: str) -> Actor:
    with database.session() as session:
        user = StaffUser(username=username, display_name=username, role=role, password_hash="x")
        session.add(user)
        session.flush()
        return Actor(user.id, user.display_name, role)


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def audit() -> Audit:
    return Audit()


@pytest.fixture
def service(database: Database, publisher: FakePublisher, audit: Audit) -> FaqService:
    return FaqService(database, publisher, AdminSettings(), audit)  # type: ignore[arg-type]


@pytest.fixture
def editor(database: Database) -> Actor:
    return _staff(database, "kim", "editor")


@pytest.fixture
def admin(database: Database) -> Actor:
    return _staff(database, "park", "admin")


def _form(answer: str = OLD_ANSWER, **extra: Any) -> dict[str, Any]:
    return {
        "id": "basic-pension-amount",
        "question": "기초연금은 한 달에 얼마 받을 수 있나요?",
        "alternatives": "기초연금 얼마 나와요\n노인 기초연금 금액\n",
        "answer": answer,
        "category": "노인",
        "source_title": "보건복지부 보도자료",
        "source_url": "https://www.mohw.go.kr",
        "updated_at": "2026-01-09",
        "valid_until": "2026-12-31",
        **extra,
    }


def _published(service: FaqService, editor: Actor, admin: Actor, answer: str = OLD_ANSWER) -> None:
    detail = service.save(editor, None, _form(answer), None)
    detail = service.submit(editor, detail.id, detail.lock_version)
    service.approve(admin, detail.id, detail.lock_version)


def test_every_save_is_a_new_version_and_the_latest_is_the_entry(service: FaqService, editor: Actor) -> None:
    first = service.save(editor, None, _form(), None)
    second = service.save(editor, first.id, _form(NEW_ANSWER), first.lock_version)
    assert second.entry["answer"] == NEW_ANSWER
    assert second.entry["alternatives"] == ["기초연금 얼마 나와요", "노인 기초연금 금액"]
    assert [v.version for v in second.versions] == [2, 1]
    assert second.latest_version == 2 and second.status == "draft"
    assert service.get(first.id).versions[1].author == "kim"


def test_submit_then_admin_approves_and_the_index_gets_the_new_text(
    service: FaqService, editor: Actor, admin: Actor, publisher: FakePublisher
) -> None:
    detail = service.save(editor, None, _form(), None)
    assert publisher.live == {}
    detail = service.submit(editor, detail.id, detail.lock_version)
    assert detail.status == "review"
    with pytest.raises(FaqPermissionError):
        service.approve(editor, detail.id, detail.lock_version)
    detail = service.approve(admin, detail.id, detail.lock_version)
    assert detail.status == "published" and detail.published_version == 1
    assert publisher.live["basic-pension-amount"].answer == OLD_ANSWER
    assert detail.versions[0].reviewed_by == "park"


def test_reject_needs_a_reason_and_sends_the_entry_back(service: FaqService, editor: Actor, admin: Actor) -> None:
    detail = service.save(editor, None, _form(), None)
    detail = service.submit(editor, detail.id, detail.lock_version)
    with pytest.raises(FaqValidationError) as no_reason:
        service.reject(admin, detail.id, detail.lock_version, "  ")
    assert no_reason.value.problems == [("reason", "반려 사유를 적어 주세요.")]
    detail = service.reject(admin, detail.id, detail.lock_version, "금액 출처를 적어 주세요")
    assert detail.status == "draft" and detail.latest_state == "rejected"
    assert detail.versions[0].note == "금액 출처를 적어 주세요"
    with pytest.raises(FaqStateError):  # a rejected text goes back only after it is changed and saved
        service.submit(editor, detail.id, detail.lock_version)


def test_self_publish_lets_the_author_publish_but_not_someone_elses_draft(
    database: Database, publisher: FakePublisher, audit: Audit, editor: Actor
) -> None:
    service = FaqService(database, publisher, AdminSettings(self_publish=True), audit)  # type: ignore[arg-type]
    other = _staff(database, "lee", "editor")
    detail = service.save(editor, None, _form(), None)
    with pytest.raises(FaqPermissionError):
        service.approve(other, detail.id, detail.lock_version)
    detail = service.approve(editor, detail.id, detail.lock_version)
    assert detail.status == "published" and "basic-pension-amount" in publisher.live


def test_agents_cannot_edit(service: FaqService, database: Database) -> None:
    agent = _staff(database, "choi", "agent")
    with pytest.raises(FaqPermissionError):
        service.save(agent, None, _form(), None)


def test_rollback_publishes_the_old_text_as_a_new_version(
    service: FaqService, editor: Actor, admin: Actor, publisher: FakePublisher
) -> None:
    _published(service, editor, admin)
    detail = service.get("basic-pension-amount")
    detail = service.save(editor, detail.id, _form(NEW_ANSWER), detail.lock_version)
    detail = service.approve(admin, detail.id, detail.lock_version)
    assert publisher.live["basic-pension-amount"].answer == NEW_ANSWER
    detail = service.rollback(admin, detail.id, 1)
    assert publisher.live["basic-pension-amount"].answer == OLD_ANSWER
    assert detail.latest_version == 3 and detail.published_version == 3
    assert detail.entry["answer"] == OLD_ANSWER
    states = {v.version: v.state for v in detail.versions}
    assert states == {1: "superseded", 2: "superseded", 3: "published"}
    assert "버전 1" in detail.versions[0].note


def test_unpublish_takes_the_entry_out_of_answers(
    service: FaqService, editor: Actor, admin: Actor, publisher: FakePublisher
) -> None:
    _published(service, editor, admin)
    detail = service.unpublish(admin, "basic-pension-amount")
    assert detail.status == "unpublished" and detail.published_version is None
    assert publisher.live == {}
    assert service.export() == []


def test_diff_shows_changed_fields_with_korean_labels(service: FaqService, editor: Actor) -> None:
    detail = service.save(editor, None, _form(), None)
    service.save(editor, detail.id, _form(NEW_ANSWER, needs_review="on"), detail.lock_version)
    changed = {d.field: d for d in service.diff(detail.id, 1, 2) if d.changed}
    assert set(changed) == {"answer", "needs_review"}
    assert changed["answer"].label == "답변"
    assert (changed["answer"].before, changed["answer"].after) == (OLD_ANSWER, NEW_ANSWER)
    assert (changed["needs_review"].before, changed["needs_review"].after) == ("아니요", "예")


def test_second_editor_gets_a_conflict_with_both_texts_and_nothing_is_lost(
    service: FaqService, editor: Actor, database: Database
) -> None:
    other = _staff(database, "lee", "editor")
    opened = service.save(editor, None, _form(), None)
    saved = service.save(editor, opened.id, _form(NEW_ANSWER), opened.lock_version)  # kim saves first
    mine = "2026년 기초연금은 최대 월 349,700원입니다. (이 편집자 버전)"
    with pytest.raises(FaqConflictError) as conflict:
        service.save(other, opened.id, _form(mine), opened.lock_version)  # lee saves from the stale page
    assert conflict.value.theirs["answer"] == NEW_ANSWER
    assert conflict.value.mine["answer"] == mine
    assert conflict.value.theirs_by == "kim"
    assert "kim" in conflict.value.message
    detail = service.get(opened.id)
    assert detail.entry["answer"] == NEW_ANSWER  # the first save stays the entry's text
    kept = [v for v in detail.versions if v.note == CONFLICT_NOTE]
    assert len(kept) == 1 and kept[0].author == "lee" and kept[0].version == conflict.value.kept_as
    assert [d.after for d in service.diff(opened.id, 2, kept[0].version) if d.field == "answer"] == [mine]
    # The winner's open page is still current: keeping the loser's text did not make it stale.
    assert service.submit(editor, opened.id, saved.lock_version).status == "review"


def test_validation_names_each_field_in_korean(service: FaqService, editor: Actor) -> None:
    bad = _form(id="Basic Pension", question="?", source_title="", source_url="www.mohw.go.kr", valid_until="12/31")
    with pytest.raises(FaqValidationError) as invalid:
        service.save(editor, None, bad, None)
    problems = dict(invalid.value.problems)
    assert set(problems) == {"id", "question", "source.title", "source.url", "valid_until"}
    assert "하이픈" in problems["id"]
    assert "https://" in problems["source.url"]
    assert "2026-12-31 형식" in problems["valid_until"]
    with pytest.raises(FaqValidationError) as reversed_dates:
        service.save(editor, None, _form(valid_from="2026-06-01", valid_until="2026-01-01"), None)
    assert reversed_dates.value.problems == [("valid_until", "게시 종료일은 게시 시작일과 같거나 그 뒤여야 합니다.")]
    assert service.list() == []


def test_a_new_entry_may_not_take_an_existing_id(service: FaqService, editor: Actor) -> None:
    service.save(editor, None, _form(), None)
    with pytest.raises(FaqValidationError) as taken:
        service.save(editor, None, _form(NEW_ANSWER), None)
    assert taken.value.problems[0][0] == "id"
    assert service.get("basic-pension-amount").entry["answer"] == OLD_ANSWER


def _entry(entry_id: str, answer: str, **fields: Any) -> FaqEntry:
    data = {"id": entry_id, "question": f"{entry_id} 질문입니다", "answer": answer,
            "source": {"title": "보건복지부", "url": "https://www.mohw.go.kr"}, "updated_at": "2026-01-02", **fields}  # fmt: skip
    return FaqEntry.model_validate(data)


def test_reminders_flag_old_years_dates_and_needs_review(service: FaqService) -> None:
    service.import_entries(None, [
        _entry("old-figure", "2025년 기준 중위소득은 월 609만원이에요."),
        _entry("old-check", "주민센터에서 신청하세요.", updated_at="2025-11-02"),
        _entry("expired", "주민센터에서 신청하세요.", valid_until="2026-02-28"),
        _entry("expiring", "주민센터에서 신청하세요.", valid_until="2026-04-10"),
        _entry("review-me", "주민센터에서 신청하세요.", needs_review=True),
        _entry("fine", "2026년 생계급여 최대 월 195만원이에요."),
    ], publish=False)  # fmt: skip
    reminders = service.reminders(date(2026, 3, 20))
    ids = {key: [r.id for r in rows] for key, rows in vars(reminders).items() if key != "reasons"}
    assert ids == {
        "earlier_year": ["old-check", "old-figure"],
        "expired": ["expired"],
        "expiring": ["expiring"],
        "needs_review": ["review-me"],
        "yearly_figures": [],
    }
    assert reminders.total == 5 and "fine" not in reminders.reasons
    assert "2025년" in reminders.reasons["old-figure"][0]


def test_in_january_every_yearly_figure_is_flagged(service: FaqService) -> None:
    service.import_entries(None, [
        _entry("median-income", "2026년 기준 중위소득(4인)은 월 6,494,738원이에요."),
        _entry("increase", "2026년 기초연금은 2.1% 올랐어요."),
        _entry("where", "2026년에도 주민센터에서 신청하세요."),
    ], publish=False)  # fmt: skip
    january = service.reminders(date(2027, 1, 5))
    assert [r.id for r in january.yearly_figures] == ["increase", "median-income"]
    assert service.reminders(date(2026, 6, 1)).total == 0
    assert service.reminders(date(2026, 1, 5)).counts["yearly_figures"] == 2


def test_import_is_all_or_nothing(service: FaqService, publisher: FakePublisher) -> None:
    service.import_entries(None, [_entry("first", "원래 답변입니다")], publish=True)
    with pytest.raises(FaqValidationError):
        service.import_entries(None, [_entry("second", "새 답변"), _entry("second", "또 새 답변")], publish=True)
    publisher.fail = True
    with pytest.raises(RuntimeError):
        service.import_entries(None, [_entry("first", "바뀐 답변입니다"), _entry("third", "새 답변")], publish=True)
    assert [r.id for r in service.list()] == ["first"]
    assert service.get("first").entry["answer"] == "원래 답변입니다"
    assert publisher.live["first"].answer == "원래 답변입니다"


def test_import_publishes_only_what_changed(service: FaqService, publisher: FakePublisher) -> None:
    entries = [_entry("a-one", "답변 하나"), _entry("a-two", "답변 둘")]
    first = service.import_entries(None, entries, publish=True)
    assert (first.created, first.published) == (["a-one", "a-two"], ["a-one", "a-two"])
    again = service.import_entries(None, [entries[0], _entry("a-two", "바뀐 답변 둘")], publish=True)
    assert (again.unchanged, again.updated, again.published) == (["a-one"], ["a-two"], ["a-two"])
    assert publisher.calls[-1] == ("publish", ["a-two"])
    assert service.get("a-two").versions[1].state == "superseded"


def test_export_re_imports_to_the_same_content(
    service: FaqService, database: Database, editor: Actor, admin: Actor, tmp_path: Path
) -> None:
    _published(service, editor, admin)
    service.import_entries(None, [_entry("b-entry", "답변", alternatives=["다른 말"], valid_from="2026-01-01")], publish=True)
    exported = service.export()
    other = Database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    other.upgrade()
    fresh = FaqService(other, FakePublisher(), AdminSettings(), Audit())  # type: ignore[arg-type]
    fresh.import_entries(None, exported, publish=True)
    assert fresh.export() == exported
    assert [e.content_hash() for e in fresh.export()] == [e.content_hash() for e in exported]


def test_prune_spares_entries_edited_in_the_admin(
    service: FaqService, editor: Actor, admin: Actor, publisher: FakePublisher
) -> None:
    service.import_entries(None, [_entry("from-file", "파일 답변"), _entry("edited", "파일 답변")], publish=True)
    detail = service.get("edited")
    detail = service.save(editor, "edited", {**detail.entry, "answer": "고친 답변"}, detail.lock_version)
    service.approve(admin, "edited", detail.lock_version)
    _published(service, editor, admin)
    assert service.prune_imported(keep=[]) == ["from-file"]
    assert sorted(publisher.live) == ["basic-pension-amount", "edited"]


def test_every_change_is_audited_with_before_and_after(service: FaqService, editor: Actor, admin: Actor, audit: Audit) -> None:
    _published(service, editor, admin)
    detail = service.get("basic-pension-amount")
    service.save(editor, detail.id, _form(NEW_ANSWER), detail.lock_version)
    actions = [(actor.name if actor else None, action) for actor, action, _ in audit.entries]
    assert actions == [("kim", "faq_create"), ("kim", "faq_submit"), ("park", "faq_approve"), ("kim", "faq_save")]
    create, approve, save = audit.entries[0][2], audit.entries[2][2], audit.entries[3][2]
    assert create["before"] is None and create["after"]["answer"] == OLD_ANSWER
    assert approve["before"] is None and approve["after"]["answer"] == OLD_ANSWER
    assert (save["before"]["answer"], save["after"]["answer"]) == (OLD_ANSWER, NEW_ANSWER)
    assert all(detail["entry"] == "basic-pension-amount" for _, _, detail in audit.entries)


def test_list_filters(service: FaqService, editor: Actor) -> None:
    service.import_entries(None, [
        _entry("pension", "기초연금 답변", category="노인", valid_until="2026-04-01"),
        _entry("child", "아동수당 답변", category="아동·가족", tenant="seoul", needs_review=True),
    ], publish=True)  # fmt: skip
    service.save(editor, None, _form(), None)
    today = date(2026, 3, 20)
    assert sorted(r.id for r in service.list(category="노인")) == ["basic-pension-amount", "pension"]
    assert [r.id for r in service.list(tenant="seoul")] == ["child"]
    assert [r.id for r in service.list(status="draft")] == ["basic-pension-amount"]
    assert [r.id for r in service.list(needs_review=True)] == ["child"]
    assert [r.id for r in service.list(expiry="expiring", today=today)] == ["pension"]
    assert [r.id for r in service.list(expiry="expired", today=date(2026, 5, 1))] == ["pension"]
    assert [r.id for r in service.list(edited_by=editor.id)] == ["basic-pension-amount"]
    assert [r.id for r in service.list(query="아동수당")] == ["child"]
    assert {r.id for r in service.list(program="기초연금")} == {"basic-pension-amount"}
