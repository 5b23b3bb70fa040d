"""The agent's case card: exactly what the transcript and the dialogue's slots hold, each with where it came from."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from channels.assist.case_card import FROM_CLEARED_SLOT, FROM_SLOT, FROM_VERDICT, build_case_card, last_question
from knowledge.rules.eligibility import Criteria, Household, check, explain

PENSION_SOURCE = "보건복지부 2026년 기초연금 선정기준액 (노컷뉴스 보도)·기준연금액 (서울신문, 2026-01-09)"
FAQ_SOURCE = {"title": "기초연금 안내", "url": "https://basicpension.mohw.go.kr", "updated_at": "2026-01-09"}


@pytest.fixture(scope="module")
def criteria() -> Criteria:
    return Criteria.load()


def turn(turn_id: int, role: str, text: str, feedback: str | None = None, **meta: Any) -> dict[str, Any]:
    """A turn as TranscriptStore.turns returns it."""
    return {
        "id": turn_id,
        "role": role,
        "text": text,
        "meta": meta,
        "created_at": "2026-03-02T01:00:00+00:00",
        "feedback": feedback,
    }


def verdict_turn(turn_id: int, criteria: Criteria, household: Household) -> dict[str, Any]:
    """The mock verdict as the web app records ActionCheckEligibility's message."""
    result = check("기초연금", household, criteria)
    assert result is not None
    sources = [{"title": s.title, "url": s.url, "updated_at": s.updated_at} for s in result.sources]
    return turn(turn_id, "bot", explain(result) + "\n\n신청 방법도 안내해 드릴까요?", mode="eligibility", verdict=result.verdict,
                sources=sources, degraded=False)  # fmt: skip


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def pension_tracker(**current: Any) -> dict[str, Any]:
    """Rasa's tracker after the 기초연금 check: the action cleared the person's facts; the events still hold them."""
    events = [
        slot("household_size", 4),  # an earlier session: forgotten, as Rasa forgets it
        {"event": "session_started"},
        {"event": "user", "text": "기초연금 받을 수 있어요?"},
        slot("program", "기초연금"),
        slot("age", "일흔"),  # what NLU extracted, before validation
        slot("age", 70),
        slot("household_type", "single"),
        slot("monthly_income", "100만원"),
        slot("monthly_income", 1_000_000),
        *(slot(name, None) for name in ("household_size", "monthly_income", "age", "household_type", "child_age")),
    ]
    slots = {"program": "기초연금", "household_size": None, "monthly_income": None, "age": None, "household_type": None,
             "child_age": None, "requested_slot": None, **current}  # fmt: skip
    return {"sender_id": "web:abc", "slots": slots, "events": events}


@pytest.fixture
def transcript(criteria: Criteria) -> list[dict[str, Any]]:
    household = Household(age=70, couple=False, monthly_income=1_000_000)
    return [
        turn(1, "citizen", "기초연금 받을 수 있어요?"),
        turn(2, "bot", "기초연금을 받으실 분은 만 나이로 몇 세이신가요? (예: 66세)"),  # a form question: no answer
        turn(3, "citizen", "70세요"),
        verdict_turn(4, criteria, household),
        turn(5, "citizen", "기초연금 얼마 받아요?"),
        turn(6, "bot", "2026년 기초연금은 월 최대 349,700원이에요.", "down", mode="faq", sources=[FAQ_SOURCE]),
        turn(7, "citizen", "화성 이주 지원금 있나요"),
        turn(8, "bot", "확인할 수 있는 안내가 없어요. 129로 문의해 주세요.", mode="none", sources=[]),
        turn(9, "citizen", "/request_human", label="상담원 연결"),
        turn(10, "bot", "상담원 연결을 요청했어요. 지금 대기 1번째예요.", mode="handoff", handoff_state="waiting"),
    ]


def test_the_card_shows_exactly_the_slots_and_the_verdict_with_its_numbers_and_sources(
    transcript: list[dict[str, Any]], criteria: Criteria
) -> None:
    card = build_case_card(transcript, pension_tracker(), criteria).as_json()

    assert [(f["label"], f["value"], f["source"]) for f in card["facts"]] == [
        ("제도", "기초연금", FROM_SLOT),
        ("월 소득(가구 전체)", "1,000,000원", FROM_CLEARED_SLOT),
        ("나이", "만 70세", FROM_CLEARED_SLOT),
        ("가구 형태", "단독가구", FROM_CLEARED_SLOT),
        ("기초연금 선정기준(월)", "2,470,000원", f"모의 계산 규칙(2026년 기준): {PENSION_SOURCE} (2026-01-09)"),
    ]
    verdict = card["verdict"]
    assert (verdict["program"], verdict["verdict"], verdict["verdict_label"]) == ("기초연금", "likely", "받을 가능성 있음")
    assert verdict["reasons"] == [
        "만 70세로 나이 기준(만 65세 이상)은 맞아요.",
        "말씀하신 월 소득 1,000,000원이 단독가구 선정기준액 2,470,000원 이하예요.",
        "받게 되면 한 달 최대 349,700원(기준연금액)이에요.",
    ]
    assert verdict["sources"] == [{"title": PENSION_SOURCE, "url": "https://basicpension.mohw.go.kr", "updated_at": "2026-01-09"}]
    assert verdict["text"] == transcript[3]["text"] and verdict["source"] == FROM_VERDICT and verdict["turn_id"] == 4
    # Nothing invented: every figure on the card is one the citizen was shown in the verdict.
    figures = re.findall(r"\d[\d,]*", " ".join(f["value"] for f in card["facts"]))
    assert figures and all(figure in transcript[3]["text"] for figure in figures)


def test_the_bot_answers_carry_their_mode_and_the_failed_ones_say_why(transcript: list[dict[str, Any]]) -> None:
    card = build_case_card(transcript, None).as_json()
    answers = {a["turn_id"]: a for a in card["answers"]}
    assert sorted(answers) == [4, 6, 8]  # not the form question, not the handoff notice
    assert (answers[6]["mode"], answers[6]["mode_label"], answers[6]["sources"]) == (
        "faq",
        "FAQ 답변(작성된 그대로)",
        [FAQ_SOURCE],
    )
    assert answers[6]["question"] == "기초연금 얼마 받아요?" and answers[6]["feedback"] == "down"
    assert [(a["turn_id"], a["question"], a["failed_because"]) for a in card["failed_answers"]] == [
        (6, "기초연금 얼마 받아요?", ["시민이 👎로 평가함"]),
        (8, "화성 이주 지원금 있나요", ["답을 찾지 못함"]),
    ]


def test_without_rasa_the_card_keeps_the_reported_verdict_and_claims_no_slot_or_threshold(
    transcript: list[dict[str, Any]], criteria: Criteria
) -> None:
    card = build_case_card(transcript, None, criteria).as_json()
    assert card["facts"] == []
    assert card["verdict"]["verdict"] == "likely" and "2,470,000원" in card["verdict"]["reasons"][1]


def test_a_threshold_is_named_only_when_the_rule_reproduces_what_was_reported(
    transcript: list[dict[str, Any]], criteria: Criteria
) -> None:
    # The citizen has since said a different income: the rule would now compare another figure than the verdict did.
    tracker = pension_tracker(monthly_income=3_000_000)
    facts = build_case_card(transcript, tracker, criteria).as_json()["facts"]
    assert ("월 소득(가구 전체)", "3,000,000원", FROM_SLOT) in [(f["label"], f["value"], f["source"]) for f in facts]
    assert not any("선정기준" in f["label"] for f in facts)


def test_an_unavailable_answer_fails_and_a_crisis_reply_does_not() -> None:
    turns = [
        turn(1, "citizen", "주거급여 신청"),
        turn(2, "bot", "죄송해요. 지금 답변 시스템에 잠시 문제가 있어", mode="unavailable"),
        turn(3, "citizen", "죽고 싶어요"),
        turn(4, "bot", "많이 힘드시죠. 109에 전화해 주세요.", mode="none", crisis="suicide", handoff={"reason": "crisis"}),
    ]
    card = build_case_card(turns, None).as_json()
    assert [(a["turn_id"], a["mode_label"]) for a in card["answers"]] == [(2, "답변 시스템 오류"), (4, "위기 안내")]
    assert [(a["turn_id"], a["failed_because"]) for a in card["failed_answers"]] == [(2, ["답변 시스템 오류로 답하지 못함"])]


def test_an_empty_conversation_gives_an_empty_card() -> None:
    empty_tracker = {"sender_id": "web:new", "slots": {"program": None, "age": None}, "events": [{"event": "action"}]}
    for tracker in (None, empty_tracker):
        card = build_case_card([], tracker, Criteria.load()).as_json()
        assert card == {"facts": [], "verdict": None, "answers": [], "failed_answers": []}
    assert last_question([]) is None


def test_the_last_question_skips_button_payloads(transcript: list[dict[str, Any]]) -> None:
    assert last_question(transcript) == "화성 이주 지원금 있나요"


def test_the_card_is_json(transcript: list[dict[str, Any]], criteria: Criteria) -> None:
    card = build_case_card(transcript, pension_tracker(), criteria).as_json()
    assert json.loads(json.dumps(card, ensure_ascii=False)) == card
