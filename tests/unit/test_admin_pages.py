"""The knowledge admin's pages through the Flask test client, as editors and admins use them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from channels.admin.faqs import FaqService
from channels.app import create_app
from channels.settings import AdminSettings, AppSettings
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.seed_files import load_faq_dir
from knowledge.settings import KnowledgeSettings
from tests.unit.fakes import ScriptedRasa
from tests.unit.staff_support import make_staff, sign_in

ENTRY = "basic-pension-amount"
OLD = "349,700원"
NEW = "월 351,000원"


class FakePublisher:
    """What would reach the search index the bot answers from."""

    def __init__(self) -> None:
        self.live: dict[str, FaqEntry] = {}

    def publish(self, entries: list[FaqEntry]) -> None:
        self.live.update({entry.id: entry for entry in entries})

    def unpublish(self, entry_ids: list[str]) -> None:
        for entry_id in entry_ids:
            self.live.pop(entry_id, None)


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


def build(tmp_path: Path, rasa: ScriptedRasa, publisher: FakePublisher, **admin: Any) -> Flask:
    settings = AppSettings(data_dir=tmp_path, admin=AdminSettings(**admin))
    app = create_app(settings, engine=rasa, publisher=publisher)  # type: ignore[arg-type]
    app.extensions["bokji.accounts"].hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    make_staff(app, "kim", "editor", name="김편집")
    make_staff(app, "lee", "editor", name="이편집")
    make_staff(app, "choi", "admin", name="최관리")
    make_staff(app, "jung", "agent", name="정상담")
    seed = [e for e in load_faq_dir(KnowledgeSettings().seed_dir) if e.id == ENTRY]
    service(app).import_entries(None, seed, publish=True)
    return app


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, publisher: FakePublisher) -> Flask:
    return build(tmp_path, rasa, publisher)


def service(app: Flask) -> FaqService:
    return app.extensions["bokji.faqs"]  # type: ignore[no-any-return]


class Staff:
    """A signed-in browser that posts forms with the page's CSRF token."""

    def __init__(self, app: Flask, username: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.token = sign_in(self.client, username)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict[str, str], follow: bool = False) -> Any:
        return self.client.post(path, data={"csrf_token": self.token, **data}, follow_redirects=follow)

    def form(self, entry_id: str) -> dict[str, str]:
        """The edit form's fields as the browser would send them back unchanged."""
        html = self.page(f"/admin/faqs/{entry_id}")
        form = html.split('class="panel faq-form"', 1)[1].split("</form>", 1)[0]
        values = {m[0]: m[1] for m in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form)}
        values |= {m[0]: m[1] for m in re.findall(r'<textarea[^>]*name="([a-z_]+)"[^>]*>([^<]*)</textarea>', form)}
        values.pop("csrf_token", None)
        if 'name="needs_review" checked' in form:
            values["needs_review"] = "on"
        return {key: unescape(value) for key, value in values.items()}


def unescape(text: str) -> str:
    return text.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash[^"]*">([^<]+)</p>', html)


def edited(form: dict[str, str]) -> dict[str, str]:
    return form | {"answer": form["answer"].replace(f"월 {OLD}", NEW)}


# -- who may come in -------------------------------------------------------------------------------
def test_anonymous_is_sent_to_sign_in_and_agents_are_refused(app: Flask) -> None:
    response = app.test_client().get("/admin/faqs")
    assert response.status_code == 302 and response.location.startswith("/console/login?next=/admin/faqs")
    agent = Staff(app, "jung")
    for path in ("/admin", "/admin/faqs", f"/admin/faqs/{ENTRY}", "/admin/review"):
        page = agent.get(path)
        assert page.status_code == 403 and "권한" in page.get_data(as_text=True)
    lock = str(service(app).get(ENTRY).lock_version)
    assert agent.post(f"/admin/faqs/{ENTRY}/unpublish", {"lock_version": lock}).status_code == 403
    assert service(app).get(ENTRY).status == "published"


def test_editor_lands_on_the_admin_after_sign_in(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "kim")
    html = client.get("/console/login", follow_redirects=True).get_data(as_text=True)
    assert "대시보드" in html and '<html lang="ko">' in html and "김편집" in html


# -- list, create, validation ---------------------------------------------------------------------
def test_list_searches_and_filters(app: Flask) -> None:
    kim = Staff(app, "kim")
    html = kim.page("/admin/faqs?q=기초연금")
    assert ENTRY in html and "게시됨" in html
    assert ENTRY not in kim.page("/admin/faqs?q=출산")
    assert ENTRY not in kim.page("/admin/faqs?status=draft")
    assert ENTRY in kim.page("/admin/faqs?status=published&category=노인&tenant=national&program=기초연금")


def test_new_entry_is_prefilled_from_the_query_string(app: Flask) -> None:
    html = Staff(app, "kim").page("/admin/faqs/new?question=%EB%B3%B4%EC%B2%AD%EA%B8%B0+%EC%A7%80%EC%9B%90%EC%9D%80%3F")
    assert ">보청기 지원은?</textarea>" in html


def test_create_then_submit_from_the_form(app: Flask) -> None:
    kim = Staff(app, "kim")
    form = {
        "id": "hearing-aid", "question": "보청기 지원을 받을 수 있나요?", "alternatives": "보청기 지원\n보청기 보조금",
        "answer": "장애인 등록을 한 청각장애인은 보청기 구입비를 지원받을 수 있어요.", "category": "장애인",
        "tenant": "national", "source_title": "국민건강보험공단", "source_url": "https://www.nhis.or.kr",
        "updated_at": "2026-01-05", "action": "submit",
    }  # fmt: skip
    html = kim.post("/admin/faqs/new", form, follow=True).get_data(as_text=True)
    assert "검토를 요청했어요" in " ".join(flashes(html))
    detail = service(app).get("hearing-aid")
    assert detail.status == "review" and detail.entry["alternatives"] == ["보청기 지원", "보청기 보조금"]
    assert "hearing-aid" in kim.page("/admin/review")


def test_validation_errors_are_shown_beside_their_fields_and_nothing_is_saved(app: Flask) -> None:
    kim = Staff(app, "kim")
    response = kim.post(
        "/admin/faqs/new", {"id": "Bad ID!", "question": "?", "answer": "", "source_title": "", "source_url": "ftp://x"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("id", "question", "answer", "source_title", "source_url"):
        assert f'id="f-{field}-error"' in html, field
    assert "질문을 2자 이상 적어 주세요." in html.split('id="f-question-error"', 1)[1][:200]
    assert 'aria-invalid="true"' in html and "ftp://x" in html  # what was typed stays in the form
    assert [row.id for row in service(app).list()] == [ENTRY]


# -- the workflow --------------------------------------------------------------------------------
def test_edit_submit_and_approve_publish_the_new_text(app: Flask, publisher: FakePublisher) -> None:
    kim, choi = Staff(app, "kim"), Staff(app, "choi")
    html = kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "submit"}, follow=True).get_data(as_text=True)
    assert "검토를 요청했어요" in " ".join(flashes(html)) and "검토 대기" in html
    assert OLD in publisher.live[ENTRY].answer  # nothing reaches citizens before approval
    assert "승인하고 게시" not in html  # editors do not approve
    refused = kim.post(f"/admin/faqs/{ENTRY}/approve", {"lock_version": kim.form(ENTRY)["lock_version"]})
    assert refused.status_code == 403 and OLD in publisher.live[ENTRY].answer

    assert ENTRY in choi.page("/admin/review")
    page = choi.page(f"/admin/faqs/{ENTRY}")
    assert "승인하고 게시" in page and "반려" in page
    done = choi.post(f"/admin/faqs/{ENTRY}/approve", {"lock_version": choi.form(ENTRY)["lock_version"]}, follow=True)
    assert "승인하고 게시했어요" in " ".join(flashes(done.get_data(as_text=True)))
    assert NEW in publisher.live[ENTRY].answer
    assert service(app).get(ENTRY).status == "published"


def test_self_publishing_teams_publish_their_own_edits(tmp_path: Path, rasa: ScriptedRasa, publisher: FakePublisher) -> None:
    app = build(tmp_path, rasa, publisher, self_publish=True)
    kim = Staff(app, "kim")
    kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "save"})
    assert "승인하고 게시" in kim.page(f"/admin/faqs/{ENTRY}")
    kim.post(f"/admin/faqs/{ENTRY}/approve", {"lock_version": kim.form(ENTRY)["lock_version"]})
    assert NEW in publisher.live[ENTRY].answer


def test_reject_needs_a_reason_and_sends_the_draft_back(app: Flask, publisher: FakePublisher) -> None:
    kim, choi = Staff(app, "kim"), Staff(app, "choi")
    kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "submit"})
    lock = choi.form(ENTRY)["lock_version"]
    html = choi.post(f"/admin/faqs/{ENTRY}/reject", {"lock_version": lock, "reason": "  "}, follow=True).get_data(as_text=True)
    assert "반려 사유를 적어 주세요" in html and service(app).get(ENTRY).status == "review"
    choi.post(f"/admin/faqs/{ENTRY}/reject", {"lock_version": lock, "reason": "출처 날짜가 빠졌어요"})
    assert service(app).get(ENTRY).status == "draft"
    assert "출처 날짜가 빠졌어요" in kim.page(f"/admin/faqs/{ENTRY}/versions")
    assert OLD in publisher.live[ENTRY].answer


def test_unpublish_takes_the_entry_out_of_answers(app: Flask, publisher: FakePublisher) -> None:
    choi = Staff(app, "choi")
    html = choi.post(f"/admin/faqs/{ENTRY}/unpublish", {}, follow=True).get_data(as_text=True)
    assert "게시를 중단했어요" in html and ENTRY not in publisher.live


def test_saving_an_unchanged_form_adds_no_version(app: Flask) -> None:
    kim = Staff(app, "kim")
    html = kim.post(f"/admin/faqs/{ENTRY}", kim.form(ENTRY) | {"action": "save"}, follow=True).get_data(as_text=True)
    assert "바뀐 내용이 없어" in html and service(app).get(ENTRY).latest_version == 1


# -- two editors, one entry ----------------------------------------------------------------------
def test_second_editor_gets_a_conflict_with_both_texts_and_nothing_is_lost(app: Flask) -> None:
    kim, lee = Staff(app, "kim"), Staff(app, "lee")
    kims, lees = kim.form(ENTRY), lee.form(ENTRY)  # both open the entry
    kim.post(f"/admin/faqs/{ENTRY}", kims | {"answer": "김편집이 고친 답변: 월 351,000원", "action": "save"})
    response = lee.post(f"/admin/faqs/{ENTRY}", lees | {"answer": "이편집이 고친 답변: 월 352,000원", "action": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "다른 편집자(김편집)가 먼저 저장했어요" in html
    assert "김편집이 고친 답변" in html and "이편집이 고친 답변" in html
    assert service(app).get(ENTRY).entry["answer"].startswith("김편집이 고친 답변")  # theirs is not overwritten
    versions = lee.page(f"/admin/faqs/{ENTRY}/versions")
    assert "충돌로 저장되지 않은 편집" in versions  # and mine is kept as a version
    # Saving my text from the conflict page (its fresh lock) makes it the latest on purpose.
    lock = re.search(r'name="lock_version" value="(\d+)"', html)
    assert lock
    lee.post(
        f"/admin/faqs/{ENTRY}", lees | {"answer": "이편집이 고친 답변: 월 352,000원", "lock_version": lock[1], "action": "save"}
    )
    assert service(app).get(ENTRY).entry["answer"].startswith("이편집이 고친 답변")


# -- history ------------------------------------------------------------------------------------
def test_diff_marks_changed_fields_in_words(app: Flask) -> None:
    kim = Staff(app, "kim")
    kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "save"})
    html = kim.page(f"/admin/faqs/{ENTRY}/diff?a=1&b=2")
    answer_row = html.split('<th scope="row">답변</th>', 1)[1].split("</tr>", 1)[0]
    assert "▲ 바뀜" in answer_row and "<del>" in answer_row and "<ins>" in answer_row
    assert "[삭제 시작]" in answer_row and "351,000원" in answer_row
    question_row = html.split('<th scope="row">질문</th>', 1)[1].split("</tr>", 1)[0]
    assert "같음" in question_row and "<ins>" not in question_row
    assert "바뀐 항목 1개" in html


def test_rollback_publishes_the_old_text_again_as_a_new_version(app: Flask, publisher: FakePublisher) -> None:
    kim, choi = Staff(app, "kim"), Staff(app, "choi")
    kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "submit"})
    choi.post(f"/admin/faqs/{ENTRY}/approve", {"lock_version": choi.form(ENTRY)["lock_version"]})
    assert NEW in publisher.live[ENTRY].answer
    versions = choi.page(f"/admin/faqs/{ENTRY}/versions")
    assert "이 버전으로 되돌리기" in versions and "data-confirm" in versions
    assert "이 버전으로 되돌리기" not in kim.page(f"/admin/faqs/{ENTRY}/versions")
    assert kim.post(f"/admin/faqs/{ENTRY}/rollback", {"version": "1"}).status_code == 403

    html = choi.post(f"/admin/faqs/{ENTRY}/rollback", {"version": "1"}, follow=True).get_data(as_text=True)
    assert "버전 1의 내용으로 되돌려 게시했어요" in html
    assert OLD in publisher.live[ENTRY].answer
    detail = service(app).get(ENTRY)
    assert detail.latest_version == 3 and detail.published_version == 3  # history kept, nothing erased


# -- the dashboard ------------------------------------------------------------------------------
def test_dashboard_counts_link_to_the_entries_they_count(app: Flask) -> None:
    kim = Staff(app, "kim")
    kim.post(
        f"/admin/faqs/{ENTRY}", kim.form(ENTRY) | {"valid_until": "2020-12-31", "valid_from": "2020-01-01", "action": "save"}
    )
    html = kim.page("/admin")
    card = re.search(r'<a href="(/admin/faqs\?reminder=expired)"><span class="count">(\d+)개</span>', html)
    assert card and card[2] == "1"
    listed = kim.page(card[1])
    assert ENTRY in listed and "게시 종료일(2020-12-31)이 지났습니다" in listed
    drafts = re.search(r'<a href="/admin/faqs\?status=draft"><span class="count">(\d+)개</span>', html)
    assert drafts and drafts[1] == "1"


# -- bad requests -------------------------------------------------------------------------------
def test_missing_csrf_is_refused_and_changes_nothing(app: Flask) -> None:
    kim = Staff(app, "kim")
    form = edited(kim.form(ENTRY)) | {"action": "save"}
    response = kim.client.post(f"/admin/faqs/{ENTRY}", data=form)
    assert response.status_code == 400 and "보안 확인" in response.get_data(as_text=True)
    assert service(app).get(ENTRY).latest_version == 1


def test_oversized_body_is_refused(app: Flask) -> None:
    kim = Staff(app, "kim")
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = kim.post(f"/admin/faqs/{ENTRY}", {"answer": "가" * limit, "action": "save"})
    assert response.status_code == 413 and service(app).get(ENTRY).latest_version == 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/admin/faqs/no-such-entry", 404),
        ("get", "/admin/faqs/no-such-entry/versions", 404),
        ("get", f"/admin/faqs/{ENTRY}/diff?a=1&b=99", 404),
        ("get", f"/admin/faqs/{ENTRY}/diff?a=x&b=1", 400),
        ("get", f"/admin/faqs/{ENTRY}/diff", 400),
        ("post", "/admin/faqs/no-such-entry", 404),
        ("post", "/admin/faqs/no-such-entry/approve", 400),
        ("post", "/admin/faqs/no-such-entry/rollback", 400),
        ("post", f"/admin/faqs/{ENTRY}/rollback", 400),
        ("post", f"/admin/faqs/{ENTRY}", 400),
    ],
)
def test_bad_requests_get_a_clear_4xx_page(app: Flask, method: str, path: str, status: int) -> None:
    choi = Staff(app, "choi")
    response = choi.get(path) if method == "get" else choi.post(path, {"version": "abc"})
    assert response.status_code == status
    assert '<html lang="ko">' in response.get_data(as_text=True)
    assert service(app).get(ENTRY).latest_version == 1


def test_unknown_entry_in_a_workflow_step_is_404(app: Flask) -> None:
    choi = Staff(app, "choi")
    assert choi.post("/admin/faqs/no-such-entry/approve", {"lock_version": "1"}).status_code == 404
    assert choi.post("/admin/faqs/no-such-entry/rollback", {"version": "1"}).status_code == 404
    assert choi.post("/admin/faqs/no-such-entry/unpublish", {}).status_code == 404


def test_a_rejected_draft_shows_the_reason_and_submitting_it_unchanged_says_why_not(app: Flask) -> None:
    kim, choi = Staff(app, "kim"), Staff(app, "choi")
    kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "submit"})
    choi.post(f"/admin/faqs/{ENTRY}/reject", {"lock_version": choi.form(ENTRY)["lock_version"], "reason": "금액 출처가 없어요"})
    page = kim.page(f"/admin/faqs/{ENTRY}")
    assert "반려됨" in page and "사유: 금액 출처가 없어요" in page and "게시된 버전 1의 내용으로 답하고" in page
    html = kim.post(f"/admin/faqs/{ENTRY}", kim.form(ENTRY) | {"action": "submit"}, follow=True).get_data(as_text=True)
    message = " ".join(flashes(html))
    assert message.startswith("검토를 요청하지 못했어요.") and "저장은 했지만" not in message


def test_versions_page_offers_the_last_change_for_comparison(app: Flask) -> None:
    kim, choi = Staff(app, "kim"), Staff(app, "choi")
    kim.post(f"/admin/faqs/{ENTRY}", edited(kim.form(ENTRY)) | {"action": "save"})
    selected = re.findall(r'<option value="(\d+)" selected>', kim.page(f"/admin/faqs/{ENTRY}/versions"))
    assert selected == ["1", "2"]  # the published version against the draft
    choi.post(f"/admin/faqs/{ENTRY}/approve", {"lock_version": choi.form(ENTRY)["lock_version"]})
    selected = re.findall(r'<option value="(\d+)" selected>', kim.page(f"/admin/faqs/{ENTRY}/versions"))
    assert selected == ["1", "2"]  # published is the latest: the one before it against it
