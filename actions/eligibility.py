"""The eligibility screening form (모의 계산): slot validation, the verdict, and what to do next."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.render import HUMAN_BUTTON, utter_answer
from knowledge.answering.service import KnowledgeService
from knowledge.korean.quantities import (
    parse_age,
    parse_child_age,
    parse_household_size,
    parse_household_type,
    parse_income,
    particle,
)
from knowledge.rules.eligibility import SUPPORTED_PROGRAMS, Criteria, Household, check, explain, required_facts

FORM_SLOTS = ("household_size", "monthly_income", "age", "household_type", "child_age")

# Everyday names for programs, used when the form asked for a program and NLU found no entity.
_PROGRAM_WORDS = {
    "기초연금": r"기초\s*연금|노인\s*연금|어르신\s*연금",
    "주거급여": r"주거\s*급여|집세|월세\s*지원|임차료",
    "생계급여": r"생계\s*급여|생활비\s*지원",
    "의료급여": r"의료\s*급여|병원비\s*지원",
    "교육급여": r"교육\s*급여|교육비\s*지원",
    "기초생활보장": r"기초\s*생활|기초\s*수급|수급자",
    "아동수당": r"아동\s*수당",
    "부모급여": r"부모\s*급여",
}

_LABELS = {
    "household_size": ("가구원 수", lambda v: f"{v}명"),
    "monthly_income": ("월 소득", lambda v: f"{v:,}원"),
    "age": ("나이", lambda v: f"만 {v}세"),
    "household_type": ("가구 형태", lambda v: "부부가구" if v == "couple" else "단독가구"),
    "child_age": ("아이 나이", lambda v: f"만 {v}세"),
}


def canonical_program(text: str) -> str | None:
    """The program a free-text answer names, if any."""
    for program, pattern in _PROGRAM_WORDS.items():
        if re.search(pattern, text):
            return program
    return text if text in SUPPORTED_PROGRAMS else None


def previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (to notice corrections)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                break
            seen_user = True
            continue
        if seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


class ValidateEligibilityForm(FormValidationAction):
    """Normalize each answer in one place (knowledge.korean.quantities) and ask only what the program needs."""

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "validate_eligibility_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """The program first, then only the facts its rules need."""
        program = tracker.get_slot("program")
        return ["program", *required_facts(program)] if program else ["program"]

    def _validated(
        self,
        slot: str,
        value: Any,
        parse: Callable[[str], Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> dict[str, Any]:
        parsed = value if isinstance(value, (int, float)) and not isinstance(value, bool) else parse(str(value))
        if parsed is None:
            # Stay quiet when this turn answered something else (e.g. a correction "아 아니 3명이요").
            answered_other = any(name != slot for name in tracker.slots_to_validate())
            if tracker.get_slot("requested_slot") == slot and not answered_other:
                dispatcher.utter_message(text="죄송해요, 잘 알아듣지 못했어요. 한 번 더 알려 주시겠어요?")
            return {slot: None}
        before = previous_value(tracker, slot)
        if before is not None and before != parsed and slot in _LABELS:
            label, show = _LABELS[slot]
            dispatcher.utter_message(text=f"{particle(label, '을', '를')} {particle(show(parsed), '으로', '로')} 바꿨어요.")
        return {slot: parsed}

    def validate_program(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a program NLU recognized, or one named in a free-text answer."""
        text = str(slot_value or "")
        if text in SUPPORTED_PROGRAMS:
            return {"program": text}
        found = canonical_program(text)
        if found is None and tracker.get_slot("requested_slot") == "program":
            dispatcher.utter_message(text="어떤 제도인지 잘 모르겠어요. 아래 버튼에서 골라 주세요.")
            return {"program": None}
        # A program without a mock check (e.g. 실업급여) is kept: the verdict step explains and answers.
        return {"program": found or text}

    def validate_household_size(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """People in the household."""
        return self._validated("household_size", slot_value, parse_household_size, dispatcher, tracker)

    def validate_monthly_income(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Monthly household income in won (a bare number is 만원 when we just asked for it)."""
        asked = tracker.get_slot("requested_slot") == "monthly_income"
        return self._validated(
            "monthly_income", slot_value, lambda t: parse_income(t, assume_manwon=asked), dispatcher, tracker
        )

    def validate_age(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Applicant's age in years."""
        return self._validated("age", slot_value, parse_age, dispatcher, tracker)

    def validate_household_type(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Single or couple household (기초연금)."""
        return self._validated("household_type", slot_value, parse_household_type, dispatcher, tracker)

    def validate_child_age(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The child's age in whole years."""
        return self._validated("child_age", slot_value, parse_child_age, dispatcher, tracker)


def household_from(tracker: Tracker) -> Household:
    """The validated form slots as the rules' input."""

    def as_int(name: str) -> int | None:
        value = tracker.get_slot(name)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    kind = tracker.get_slot("household_type")
    return Household(
        size=as_int("household_size"),
        monthly_income=as_int("monthly_income"),
        age=as_int("age"),
        couple=None if kind not in ("single", "couple") else kind == "couple",
        child_age=as_int("child_age"),
    )


def reset_events() -> list[dict[str, Any]]:
    """Forget the person's facts (a next check may be for someone else); keep the program."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionCheckEligibility(Action):
    """Give the mock verdict with the numbers compared and the caveat, then offer how to apply."""

    def __init__(self, service: KnowledgeService, criteria: Criteria) -> None:
        """Keep the answer service (for programs without a mock check) and the 2026 criteria."""
        self._service = service
        self._criteria = criteria

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_check_eligibility"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Run the rules and explain."""
        program = str(tracker.get_slot("program") or "")
        result = check(program, household_from(tracker), self._criteria)
        if result is None:
            dispatcher.utter_message(
                text=f"{program}은(는) 아직 모의 계산을 지원하지 않아요. 대신 받을 수 있는 조건을 안내해 드릴게요."
            )
            # The answer can take seconds (model); keep the action server's loop (and answer streams) running.
            utter_answer(dispatcher, await asyncio.to_thread(self._service.answer, f"{program} 받을 수 있는 조건"))
            return reset_events()
        dispatcher.utter_message(
            text=explain(result) + "\n\n신청 방법도 안내해 드릴까요?",
            buttons=[{"title": "네, 알려 주세요", "payload": "/affirm"}, {"title": "아니요", "payload": "/deny"}, HUMAN_BUTTON],
            json_message={
                "sources": [s.model_dump() for s in result.sources],
                "mode": "eligibility",
                "verdict": result.verdict,
            },
        )
        return reset_events()


class ActionExplainApplication(Action):
    """After "네": how to apply for the program just checked, from the knowledge base."""

    def __init__(self, service: KnowledgeService) -> None:
        """Keep the answer service."""
        self._service = service

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_explain_application"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer "어디서 어떻게 신청하나요" for the remembered program."""
        program = tracker.get_slot("program") or "복지 제도"
        utter_answer(dispatcher, await asyncio.to_thread(self._service.answer, f"{program}은 어디서 어떻게 신청하나요?"))
        return []


class ActionResetEligibility(Action):
    """Clear the person's facts when the citizen cancels the check."""

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_reset_eligibility"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Forget the facts."""
        return [*reset_events(), SlotSet("requested_slot", None)]
