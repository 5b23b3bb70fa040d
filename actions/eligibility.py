"""The eligibility screening form (모의 계산): slot validation, the verdict, and what to do next."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.render import HUMAN_BUTTON, utter_answer
from knowledge.answering.service import KnowledgeService
from knowledge.domain.programs import AmbiguousName, ProgramCatalogue, load_catalogue
from knowledge.korean.quantities import (
    parse_age,
    parse_child_age,
    parse_household_size,
    parse_household_type,
    parse_income,
    particle,
)
from knowledge.rules.eligibility import Criteria, Household, check, explain, required_facts

FORM_SLOTS = ("household_size", "monthly_income", "age", "household_type", "child_age")

_LABELS = {
    "household_size": ("가구원 수", lambda v: f"{v}명"),
    "monthly_income": ("월 소득", lambda v: f"{v:,}원"),
    "age": ("나이", lambda v: f"만 {v}세"),
    "household_type": ("가구 형태", lambda v: "부부가구" if v == "couple" else "단독가구"),
    "child_age": ("아이 나이", lambda v: f"만 {v}세"),
}


def canonical_program(value: Any, text: str = "", catalogue: ProgramCatalogue | None = None) -> str | None:
    """The catalogue program the citizen means, or None (unknown words such as "지원", or an ambiguous name).

    ``value`` is what NLU extracted (a name, a list of names, or the whole answer text); ``text`` is the
    message. The message's own words decide first, longest name first, so "청년 월세 지원" is 청년월세 지원
    even where NLU caught only "월세 지원"; of several programs named, the one NLU also found, else the last
    ("국민연금 받는데 기초연금도 되나요" asks about 기초연금).
    """
    catalogue = catalogue or load_catalogue()
    values = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    extracted = [p.name for v in values if (p := catalogue.get(v)) is not None]
    mentions = catalogue.find_in(text) or [m for v in values for m in catalogue.find_in(v)]
    if mentions:
        named = [m.program.name for m in mentions if m.program is not None]
        # Only an ambiguous name ("월세 지원 되나요"): ask which, whatever an earlier turn left in the slot.
        return next((n for n in reversed(named) if n in extracted), named[-1]) if named else None
    return extracted[-1] if extracted else None


def ambiguous_name_in(text: str, catalogue: ProgramCatalogue | None = None) -> AmbiguousName | None:
    """The first name in a message that stands for more than one program ("월세 지원"), if any."""
    mentions = (catalogue or load_catalogue()).find_in(text)
    return next((m.ambiguous for m in mentions if m.ambiguous is not None), None)


def last_program_named(tracker: Tracker) -> str | None:
    """The latest non-empty value of the program slot (validation may have emptied it since)."""
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "program" and isinstance(event.get("value"), str):
            return str(event["value"])
    return None


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

    def __init__(self, catalogue: ProgramCatalogue | None = None) -> None:
        """Use the given program catalogue (default: the one in knowledge/seed/programs.yaml, read on first use)."""
        self._catalogue = catalogue

    @property
    def catalogue(self) -> ProgramCatalogue:
        """The program catalogue."""
        return self._catalogue or load_catalogue()

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "validate_eligibility_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """The program first, then only the facts its rules need."""
        program = tracker.get_slot("program")
        return ["program", *required_facts(program, self.catalogue)] if isinstance(program, str) and program else ["program"]

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
        """Keep only a program of the catalogue; anything else ("지원", "월세 지원") leaves the slot empty to ask."""
        text = str(tracker.latest_message.get("text") or "")
        program = canonical_program(slot_value, text, self.catalogue)
        if program is not None:
            # A program without a mock check (e.g. 청년월세 지원) is kept: the verdict step says so and answers.
            return {"program": program}
        unclear = ambiguous_name_in(text, self.catalogue) is None
        if unclear and tracker.get_slot("requested_slot") == "program":
            dispatcher.utter_message(text="어떤 제도인지 잘 모르겠어요. 아래 버튼에서 골라 주세요.")
        return {"program": None}

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

    def __init__(self, service: KnowledgeService, criteria: Criteria, catalogue: ProgramCatalogue | None = None) -> None:
        """Keep the answer service (for programs without a mock check), the 2026 criteria and the programs."""
        self._service = service
        self._criteria = criteria
        self._catalogue = catalogue

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_check_eligibility"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Run the rules and explain."""
        program = canonical_program(tracker.get_slot("program"), catalogue=self._catalogue)
        if program is None:  # the form only ends with a catalogue program; never judge a stray word
            dispatcher.utter_message(response="utter_ask_program")
            return reset_events()
        result = check(program, household_from(tracker), self._criteria)
        if result is None:
            dispatcher.utter_message(
                text=f"{particle(program, '은', '는')} 모의 계산이 아직 없어요. 대신 받을 수 있는 조건을 안내해 드릴게요."
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
        program = str(tracker.get_slot("program") or "복지 제도")
        question = f"{particle(program, '은', '는')} 어디서 어떻게 신청하나요?"
        utter_answer(dispatcher, await asyncio.to_thread(self._service.answer, question))
        return []


class ActionAskProgram(Action):
    """The form's question for the program: which one an ambiguous name means ("월세 지원"), else the usual list."""

    def __init__(self, catalogue: ProgramCatalogue | None = None) -> None:
        """Use the given program catalogue (default: knowledge/seed/programs.yaml)."""
        self._catalogue = catalogue

    def name(self) -> str:
        """Same literal as domain.yml (Rasa's form calls action_ask_<slot> in place of utter_ask_<slot>)."""
        return "action_ask_program"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Offer the programs the citizen's word may mean, or every program the mock check knows."""
        catalogue = self._catalogue or load_catalogue()
        ambiguous = ambiguous_name_in(str(tracker.latest_message.get("text") or ""), catalogue)
        if ambiguous is None:  # "그거 나도 받을 수 있어?" after a question about 월세 지원
            named = last_program_named(tracker)
            ambiguous = catalogue.ambiguous_name(named) if named else None
        if ambiguous is None:
            dispatcher.utter_message(response="utter_ask_program")
            return []
        # The payload names the program as an entity, so a tap never depends on NLU reading a bare name.
        buttons = [
            {"title": name, "payload": "/inform" + json.dumps({"program": name}, ensure_ascii=False)}
            for name in ambiguous.programs
        ]
        dispatcher.utter_message(text=ambiguous.question, buttons=buttons)
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
