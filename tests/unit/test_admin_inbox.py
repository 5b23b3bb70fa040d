"""The unanswered-questions inbox at /admin/inbox, fed by real traffic through the widget API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.admin.question_groups import group_questions, same_question, similarity
from channels.store.models import AuditEntry, Handoff, InboxResolution, Turn
from tests.unit.fakes import ScriptedRasa
from tests.unit.test_admin_pages import ENTRY, FakePublisher, Staff, build

NOT_FOUND = [
    {
        "text": "죄송해요. 그 내용은 안내 자료에서 찾지 못했어요.",
        "buttons": [{"title": "상담원 연결", "payload": "/request_human"}],
    },
    {"custom": {"sources": [], "mode": "none"}},
]
FAQ_ANSWER = [
    {"text": "2026년 기초연금은 월 349,700원이에요."},
    {"custom": {"sources": [], "mode": "faq"}},
]
MARS = "화성 이주 지원금 있나요"
PENSION = "기초연금 얼마 받아요?"


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa) -> Flask:
    return build(tmp_path, rasa, FakePublisher())


def say(client: FlaskClient, session: str, text: str) -> list[dict[str, Any]]:
    response = client.post("/api/v1/widget/chat", json={"session_id": session, "text": text})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["messages"]


def an_hour_ago(app: Flask) -> None:
    """Move all traffic so far an hour back (resolutions are kept to the second)."""
    with app.extensions["bokji.database"].session() as session:
        for row in [*session.query(Turn), *session.query(Handoff)]:
            row.created_at -= timedelta(hours=1)


def traffic(app: Flask, rasa: ScriptedRasa) -> None:
    citizen = app.test_client()
    rasa.reply = NOT_FOUND
    say(citizen, "a1", MARS)
    say(citizen, "a1", "화성 이주 지원금은 있나요?")  # the second miss in a row calls a person ("unanswered")
    say(citizen, "b1", "010-1234-5678 화성 이주 지원금 받을 수 있어요?")
    say(citizen, "d1", "너무 힘들어서 죽고 싶어요")  # a crisis reply is mode none too, but no knowledge gap
    rasa.reply = FAQ_ANSWER
    [answer] = say(citizen, "c1", PENSION)
    citizen.post("/api/v1/feedback", json={"session_id": "c1", "message_id": answer["id"], "rating": "down"})
    say(citizen, "c1", "기초연금 얼마 받아요")  # the same question after a 👎 calls a person ("disliked")
    say(citizen, "e1", "아동수당은 얼마예요?")  # answered, not rated: not in the inbox


def groups_on(html: str) -> list[str]:
    """The groups' headings, in page order."""
    return [section.split("“", 1)[1].split("”", 1)[0] for section in html.split('<h3 id="group-')[1:]]


def test_unanswered_disliked_and_handed_off_questions_are_grouped_with_counts_newest_first(
    app: Flask, rasa: ScriptedRasa
) -> None:
    traffic(app, rasa)
    html = Staff(app, "lee").page("/admin/inbox")
    assert groups_on(html) == ["기초연금 얼마 받아요", "[전화번호] 화성 이주 지원금 받을 수 있어요?"]
    pension, mars = html.split('<h3 id="group-')[1:]
    assert (
        "<strong>2번</strong>" in pension
        and "도움 안 됨(👎) 1" in pension
        and "도움 안 됨(👎) 뒤 같은 질문으로 상담 연결 1" in pension
    )
    assert "<strong>3번</strong>" in mars and "답을 찾지 못함 3" in mars and "답을 못 해 상담 연결 1" in mars
    assert "010-1234-5678" not in html  # masked when it was recorded
    assert "죽고 싶어요" not in html and "아동수당" not in html

    by_count = Staff(app, "lee").page("/admin/inbox?order=count")
    assert groups_on(by_count)[0].endswith("화성 이주 지원금 받을 수 있어요?")


def test_create_an_faq_from_a_group_prefills_a_draft(app: Flask, rasa: ScriptedRasa) -> None:
    traffic(app, rasa)
    lee = Staff(app, "lee")
    html = lee.page("/admin/inbox")
    mars = html.split('<h3 id="group-')[2]
    link = mars.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    url = urlsplit(link)
    query = parse_qs(url.query)
    assert url.path == "/admin/faqs/new"
    assert query["question"] == ["[전화번호] 화성 이주 지원금 받을 수 있어요?"]
    assert set(query["alternatives"][0].split("\n")) == {MARS, "화성 이주 지원금은 있나요?"}
    draft = lee.page(link)
    assert "화성 이주 지원금 받을 수 있어요?" in draft and "화성 이주 지원금은 있나요?" in draft


def test_resolving_records_the_entry_hides_the_group_and_a_new_occurrence_shows_it_again(app: Flask, rasa: ScriptedRasa) -> None:
    traffic(app, rasa)
    an_hour_ago(app)
    lee = Staff(app, "lee")
    done = lee.post("/admin/inbox/resolve", {"question": "[전화번호] 화성 이주 지원금 받을 수 있어요?", "entry_id": ENTRY})
    assert done.status_code == 303
    html = lee.page("/admin/inbox")
    assert groups_on(html) == ["기초연금 얼마 받아요"]
    with app.extensions["bokji.database"].session() as session:
        (resolution,) = session.query(InboxResolution).all()
        assert (resolution.entry_id, resolution.resolved_by is not None) == (ENTRY, True)
        audit = session.query(AuditEntry).filter(AuditEntry.action == "inbox_resolved").one()
        assert json.loads(audit.detail)["entry"] == ENTRY

    rasa.reply = NOT_FOUND
    say(app.test_client(), "f1", "화성 이주 지원금 있나요?")
    again = lee.page("/admin/inbox")
    assert groups_on(again)[0] == "화성 이주 지원금 있나요?"
    mars = again.split('<h3 id="group-')[1]
    assert "<strong>1번</strong>" in mars and "해결됨으로 표시했는데(답: basic-pension-amount) 다시 들어왔어요" in mars


def test_resolving_refuses_an_unknown_entry_or_no_question_and_changes_nothing(app: Flask, rasa: ScriptedRasa) -> None:
    traffic(app, rasa)
    lee = Staff(app, "lee")
    unknown = lee.post("/admin/inbox/resolve", {"question": MARS, "entry_id": "no-such-entry"})
    assert unknown.status_code == 400 and "no-such-entry&#39; FAQ 항목이 없어요" in unknown.get_data(as_text=True)
    empty = lee.post("/admin/inbox/resolve", {"question": "  "})
    assert empty.status_code == 400 and "해결할 질문을 찾을 수 없어요" in empty.get_data(as_text=True)
    assert lee.client.post("/admin/inbox/resolve", data={"question": MARS}).status_code == 400  # no CSRF token
    agent = Staff(app, "jung")
    assert agent.get("/admin/inbox").status_code == 403
    assert agent.post("/admin/inbox/resolve", {"question": MARS}).status_code == 403
    assert app.test_client().get("/admin/inbox").status_code == 302
    with app.extensions["bokji.database"].session() as session:
        assert session.query(InboxResolution).count() == 0


def test_an_empty_inbox_says_so(app: Flask) -> None:
    html = Staff(app, "lee").page("/admin/inbox?days=7&order=oops")
    assert "이 기간에 답하지 못한 질문이 없어요" in html and 'value="7" selected' in html


@dataclass(frozen=True)
class Asked:
    question: str
    at: datetime


def test_wordings_of_one_question_group_and_different_questions_about_one_program_do_not() -> None:
    assert same_question("기초연금 얼마 받아요?", "기초연금은 얼마나 받을 수 있나요")
    assert same_question("주거급여 신청 어디서 해요", "주거급여는 어디서 신청하나요?")
    assert same_question("청년 월세 지원 받을 수 있나요", "청년월세지원 받을수있어요?")
    assert not same_question("기초연금 얼마", "기초연금 신청")
    assert not same_question("반려견 등록 어떻게 해요?", "기초연금 얼마 받아요?")
    assert similarity("", "기초연금") == 0.0
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    asked = [
        Asked("기초연금 얼마 받아요?", start),
        Asked("주거급여 신청 어디서 해요", start + timedelta(minutes=1)),
        Asked("기초연금은 얼마나 받을 수 있나요", start + timedelta(minutes=2)),
        Asked("기초연금 얼마 받아요?", start + timedelta(minutes=3)),
    ]
    groups = group_questions(asked)
    assert [(g.seed.question, g.count) for g in groups] == [("기초연금 얼마 받아요?", 3), ("주거급여 신청 어디서 해요", 1)]
    assert groups[0].variants() == ["기초연금 얼마 받아요?", "기초연금은 얼마나 받을 수 있나요"]
    assert groups[0].last_seen == start + timedelta(minutes=3)
