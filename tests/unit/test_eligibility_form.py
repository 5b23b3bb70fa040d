"""The screening form's validation and verdict actions with hand-built trackers (rasa-sdk style)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import (
    ActionCheckEligibility,
    ActionExplainApplication,
    ValidateEligibilityForm,
    canonical_program,
)
from knowledge.answering.service import KnowledgeService
from knowledge.rules.eligibility import Criteria


def tracker(slots: dict[str, Any], text: str = "", events: list[dict[str, Any]] | None = None) -> Tracker:
    return Tracker(
        sender_id="web:t",
        slots=slots,
        latest_message={"text": text, "intent": {"name": "inform"}, "entities": []},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": "eligibility_form"},
        latest_action_name="action_listen",
    )


def test_required_slots_depend_on_the_program() -> None:
    form = ValidateEligibilityForm()

    def required(program: str | None) -> list[str]:
        return asyncio.run(form.required_slots([], CollectingDispatcher(), tracker({"program": program}), {}))

    assert required(None) == ["program"]
    assert required("주거급여") == ["program", "household_size", "monthly_income"]
    assert required("기초연금") == ["program", "age", "household_type", "monthly_income"]
    assert required("아동수당") == ["program", "child_age"]


def test_answers_are_normalized_when_asked() -> None:
    form = ValidateEligibilityForm()
    dispatcher = CollectingDispatcher()
    asked = tracker({"requested_slot": "monthly_income"})
    assert form.validate_monthly_income("이백오십만 원", dispatcher, asked, {}) == {"monthly_income": 2_500_000}
    assert form.validate_monthly_income("300", dispatcher, asked, {}) == {"monthly_income": 3_000_000}
    assert form.validate_household_size("네 식구", dispatcher, tracker({}), {}) == {"household_size": 4}
    assert form.validate_household_type("남편이랑 둘이 살아요", dispatcher, tracker({}), {}) == {"household_type": "couple"}
    assert dispatcher.messages == []


def test_an_unclear_answer_is_asked_again_politely() -> None:
    form = ValidateEligibilityForm()
    dispatcher = CollectingDispatcher()
    assert form.validate_household_size("음 글쎄요", dispatcher, tracker({"requested_slot": "household_size"}), {}) == {
        "household_size": None
    }
    assert "한 번 더" in dispatcher.messages[0]["text"]


def test_a_correction_is_acknowledged() -> None:
    events = [
        {"event": "user", "text": "4명이요"},
        {"event": "slot", "name": "household_size", "value": 4},
        {"event": "user", "text": "아 아니 3명이요"},
        {"event": "slot", "name": "household_size", "value": "3명"},
    ]
    dispatcher = CollectingDispatcher()
    result = ValidateEligibilityForm().validate_household_size(
        "3명", dispatcher, tracker({"requested_slot": "monthly_income"}, events=events), {}
    )
    assert result == {"household_size": 3}
    assert dispatcher.messages[0]["text"] == "가구원 수를 3명으로 바꿨어요."


def test_no_apology_when_the_turn_corrected_another_answer() -> None:
    events = [{"event": "user", "text": "아 아니 3명이요"}, {"event": "slot", "name": "household_size", "value": "3명"},
              {"event": "slot", "name": "monthly_income", "value": "아 아니 3명이요"}]  # fmt: skip
    dispatcher = CollectingDispatcher()
    asked = tracker({"requested_slot": "monthly_income", "household_size": "3명", "monthly_income": "아 아니 3명이요"},
                    events=events)  # fmt: skip
    assert ValidateEligibilityForm().validate_monthly_income("아 아니 3명이요", dispatcher, asked, {}) == {
        "monthly_income": None
    }
    assert dispatcher.messages == []


def test_program_from_free_text() -> None:
    assert canonical_program("집세 지원 받고 싶어요") == "주거급여"
    assert canonical_program("노인연금이요") == "기초연금"
    assert canonical_program("모르겠어요") is None


def test_verdict_shows_numbers_caveat_sources_and_clears_personal_facts(service: KnowledgeService) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"program": "주거급여", "household_size": 4, "monthly_income": 2_000_000}
    events = asyncio.run(ActionCheckEligibility(service, Criteria.load()).run(dispatcher, tracker(slots), {}))
    [message] = dispatcher.messages
    assert "주거급여: 받으실 가능성이 있어요" in message["text"]
    assert "2,000,000원" in message["text"] and "3,117,474원" in message["text"]
    assert "소득인정액 조사" in message["text"]
    assert message["custom"]["verdict"] == "likely" and message["custom"]["sources"]
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert {"household_size", "monthly_income"} <= cleared
    assert "program" not in cleared  # "그거 나도 받을 수 있어?" keeps the program


def test_program_without_mock_check_is_answered_from_knowledge(service: KnowledgeService) -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCheckEligibility(service, Criteria.load()).run(dispatcher, tracker({"program": "긴급복지지원"}), {}))
    assert "모의 계산을 지원하지 않아요" in dispatcher.messages[0]["text"]
    assert len(dispatcher.messages) == 2


def test_yes_after_the_verdict_explains_how_to_apply(service: KnowledgeService) -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionExplainApplication(service).run(dispatcher, tracker({"program": "기초연금"}), {}))
    assert dispatcher.messages[0]["custom"]["doc_id"] == "basic-pension-apply"
