"""The screening form's validation and verdict actions with hand-built trackers (rasa-sdk style)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import (
    ActionAskProgram,
    ActionCheckEligibility,
    ActionExplainApplication,
    ValidateEligibilityForm,
    canonical_program,
)
from knowledge.answering.service import KnowledgeService
from knowledge.rules.eligibility import Criteria


def tracker(
    slots: dict[str, Any], text: str = "", events: list[dict[str, Any]] | None = None, intent: str = "inform"
) -> Tracker:
    return Tracker(
        sender_id="web:t",
        slots=slots,
        latest_message={"text": text, "intent": {"name": intent}, "entities": []},
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
    assert canonical_program("청년월세요") == "청년월세 지원"
    assert canonical_program("모르겠어요") is None
    assert canonical_program("월세 지원이요") is None  # 주거급여 or 청년월세 지원: asked, never guessed


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
    assert dispatcher.messages[0]["text"].startswith("긴급복지지원은 모의 계산이 아직 없어요.")
    assert len(dispatcher.messages) == 2
    assert dispatcher.messages[1]["custom"]["mode"] in {"faq", "extractive", "generated", "none"}


def validated_program(value: Any, text: str, requested: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    slots = {"program": value, "requested_slot": requested}
    result = ValidateEligibilityForm().validate_program(value, dispatcher, tracker(slots, text, intent="check_eligibility"), {})
    return result["program"], dispatcher.messages


def test_youth_rent_is_its_own_program_even_where_nlu_caught_only_rent_support() -> None:
    assert validated_program("월세 지원", "청년 월세 지원 받을 수 있나요") == ("청년월세 지원", [])
    assert validated_program("청년월세 지원", "청년 월세 지원 받을 수 있나요") == ("청년월세 지원", [])
    required = asyncio.run(
        ValidateEligibilityForm().required_slots([], CollectingDispatcher(), tracker({"program": "청년월세 지원"}), {})
    )
    assert required == ["program"]  # no 주거급여 questions: straight to the honest "no mock check" answer


def test_the_word_support_alone_is_not_a_program() -> None:
    assert validated_program("지원", "기저귀 분유 지원 대상이 어떻게 돼요") == ("기저귀·조제분유 지원", [])
    assert validated_program("지원", "지원 받을 수 있나요") == (None, [])
    program, messages = validated_program("지원이요", "지원이요", requested="program")
    assert program is None and "잘 모르겠어요" in messages[0]["text"]


def test_an_ambiguous_name_is_never_judged_and_the_form_asks_which() -> None:
    assert validated_program("월세 지원", "월세 지원 받을 수 있나요") == (None, [])
    assert validated_program("주거급여", "월세 지원 받을 수 있나요") == (None, [])  # a stale slot value is not taken
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskProgram().run(dispatcher, tracker({}, "월세 지원 받을 수 있나요"), {}))
    [message] = dispatcher.messages
    assert "주거급여" in message["text"] and "청년월세 지원" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["주거급여", "청년월세 지원"]
    assert message["buttons"][1]["payload"] == '/inform{"program": "청년월세 지원"}'


def test_an_ambiguous_name_from_an_earlier_turn_is_asked_about_too() -> None:
    events = [{"event": "slot", "name": "program", "value": "월세 지원"}, {"event": "slot", "name": "program", "value": None}]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskProgram().run(dispatcher, tracker({}, "그거 나도 받을 수 있어?", events=events), {}))
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["주거급여", "청년월세 지원"]


def test_without_an_ambiguous_name_the_usual_program_question_is_asked() -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskProgram().run(dispatcher, tracker({}, "저도 받을 수 있는 거 있나요?"), {}))
    assert dispatcher.messages[0]["response"] == "utter_ask_program"


def test_of_two_programs_named_the_one_asked_about_is_judged() -> None:
    assert validated_program(["노령연금", "기초연금"], "국민연금 받는데 기초연금도 되나요")[0] == "기초연금"
    assert validated_program("기초연금", "그거 나도 받을 수 있어?")[0] == "기초연금"  # carried over


def test_youth_rent_gets_no_other_programs_verdict(service: KnowledgeService) -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCheckEligibility(service, Criteria.load()).run(dispatcher, tracker({"program": "청년월세 지원"}), {}))
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert texts[0].startswith("청년월세 지원은 모의 계산이 아직 없어요.")
    assert not any("[모의 계산]" in t or "주거급여:" in t for t in texts)


def test_a_stray_word_in_the_slot_is_asked_about_not_judged(service: KnowledgeService) -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCheckEligibility(service, Criteria.load()).run(dispatcher, tracker({"program": "지원"}), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_program"]


def test_yes_after_the_verdict_explains_how_to_apply(service: KnowledgeService) -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionExplainApplication(service).run(dispatcher, tracker({"program": "기초연금"}), {}))
    assert dispatcher.messages[0]["custom"]["doc_id"] == "basic-pension-apply"
