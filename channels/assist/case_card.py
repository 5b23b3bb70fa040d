"""The case card an agent sees on opening a chat: what the dialogue already knows, and nothing else.

Built by a pure function from the transcript's turns (each bot turn's meta: mode, sources, verdict ...)
and Rasa's tracker (slots and events). Every value on the card comes from a slot the citizen's answers
filled, from the mock-eligibility verdict as the action reported it, or from the 2026 criteria file
when re-running the same rule gives exactly the reasons the action reported. No value is inferred.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.rules.eligibility import Criteria, Household, check, explain, won

FROM_SLOT = "대화에서 확인한 값(slot)"
FROM_CLEARED_SLOT = "대화에서 확인했던 값(slot, 모의 계산이나 취소 뒤 초기화됨)"
FROM_VERDICT = "모의 계산 결과(action_check_eligibility가 보고한 그대로)"

MODE_LABELS = {
    "faq": "FAQ 답변(작성된 그대로)",
    "extractive": "안내 자료 문장 인용",
    "generated": "모델이 자료로 작성(검증됨)",
    "none": "답을 찾지 못함",
    "eligibility": "모의 계산",
    "unavailable": "답변 시스템 오류",
}
VERDICT_LABELS = {
    "likely": "받을 가능성 있음",
    "unlikely": "받기 어려움",
    "needs_visit": "판단 어려움(주민센터 상담 권장)",
}


def _number(value: Any) -> int | None:
    """A validated count or amount (the form's validation stores whole numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or int(value) != value:
        return None
    return int(value)


def _household_type(value: Any) -> str | None:
    return value if value in ("single", "couple") else None


@dataclass(frozen=True)
class SlotFact:
    """How one slot of bot/domain.yml reads on the card."""

    label: str
    read: Callable[[Any], Any]
    show: Callable[[Any], str]


# The eligibility form's slots (bot/domain.yml, actions/eligibility.py FORM_SLOTS), in the form's order.
FORM_FACTS = {
    "household_size": SlotFact("가구원 수", _number, lambda v: f"{v}명"),
    "monthly_income": SlotFact("월 소득(가구 전체)", _number, lambda v: won(v)),
    "age": SlotFact("나이", _number, lambda v: f"만 {v}세"),
    "household_type": SlotFact("가구 형태", _household_type, lambda v: "부부가구" if v == "couple" else "단독가구"),
    "child_age": SlotFact("아이 나이", _number, lambda v: f"만 {v}세"),
}


@dataclass(frozen=True)
class Fact:
    """One thing the dialogue knows, with where it came from."""

    label: str
    value: str
    source: str
    slot: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The last mock-eligibility result, as the action reported it (its text, split into its parts)."""

    program: str | None
    verdict: str
    verdict_label: str
    summary: str
    reasons: list[str]
    notes: list[str]
    caveat: str
    text: str
    sources: list[dict[str, str]]
    turn_id: int | None
    created_at: str | None
    source: str = FROM_VERDICT


@dataclass(frozen=True)
class BotAnswer:
    """One bot answer with how it was made and, when it failed, why."""

    turn_id: int | None
    question: str | None
    text: str
    mode: str | None
    mode_label: str
    sources: list[dict[str, str]]
    feedback: str | None
    created_at: str | None
    failed_because: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CaseCard:
    """Facts, the verdict, the bot's answers and the failed ones."""

    facts: list[Fact]
    verdict: Verdict | None
    answers: list[BotAnswer]

    @property
    def failed_answers(self) -> list[BotAnswer]:
        """Answers that found nothing, broke, or were rated 👎."""
        return [a for a in self.answers if a.failed_because]

    def as_json(self) -> dict[str, Any]:
        """The console's JSON shape."""
        return {
            "facts": [asdict(f) for f in self.facts],
            "verdict": asdict(self.verdict) if self.verdict else None,
            "answers": [asdict(a) for a in self.answers],
            "failed_answers": [asdict(a) for a in self.failed_answers],
        }


def build_case_card(
    turns: Sequence[dict[str, Any]], tracker: dict[str, Any] | None = None, criteria: Criteria | None = None
) -> CaseCard:
    """The card for one conversation.

    Args:
        turns: the transcript, oldest first (``TranscriptStore.turns``).
        tracker: Rasa's tracker JSON (``slots`` and ``events``); None when Rasa could not be asked.
        criteria: the 2026 criteria, to name the rule's threshold when the re-run matches the reported verdict.
    """
    verdict = last_verdict(turns)
    values = form_values(tracker) if tracker else {}
    facts = program_facts(tracker or {}) + [
        Fact(FORM_FACTS[name].label, FORM_FACTS[name].show(value), FROM_SLOT if current else FROM_CLEARED_SLOT, name)
        for name, (value, current) in values.items()
    ]
    if criteria is not None and verdict is not None:
        facts += rule_facts(verdict, {name: value for name, (value, _) in values.items()}, criteria)
    return CaseCard(facts=facts, verdict=verdict, answers=bot_answers(turns))


def last_question(turns: Sequence[dict[str, Any]]) -> str | None:
    """The citizen's last message that is a question in words (not a button's /intent payload)."""
    for turn in reversed(turns):
        text = str(turn.get("text") or "").strip()
        if turn.get("role") == "citizen" and text and not text.startswith("/"):
            return text
    return None


def known_slots(tracker: dict[str, Any]) -> dict[str, Any]:
    """The last valid value of each form slot in the current session, including values cleared since.

    The eligibility action clears the person's facts after its verdict (a next check may be for someone
    else); the events still hold what the citizen said. A session start or restart forgets everything,
    as Rasa does (carry_over_slots_to_new_session is false).
    """
    known: dict[str, Any] = {}
    for event in tracker.get("events") or []:
        kind = event.get("event") if isinstance(event, dict) else None
        if kind in ("session_started", "restart"):
            known.clear()
        elif kind == "slot" and event.get("name") in FORM_FACTS:
            value = FORM_FACTS[event["name"]].read(event.get("value"))
            if value is not None:
                known[event["name"]] = value
    return known


def form_values(tracker: dict[str, Any]) -> dict[str, tuple[Any, bool]]:
    """Each form slot the dialogue filled, in the form's order: its value and whether the slot still holds it."""
    slots = tracker.get("slots") or {}
    known = known_slots(tracker)
    values: dict[str, tuple[Any, bool]] = {}
    for name, fact in FORM_FACTS.items():
        current = fact.read(slots.get(name))
        if current is not None:
            values[name] = (current, True)
        elif name in known:
            values[name] = (known[name], False)
    return values


def program_facts(tracker: dict[str, Any]) -> list[Fact]:
    """The program slot, current value only (an earlier value may be a word validation refused, such as "지원")."""
    program = (tracker.get("slots") or {}).get("program")
    return [Fact("제도", program.strip(), FROM_SLOT, "program")] if isinstance(program, str) and program.strip() else []


def rule_facts(verdict: Verdict, known: dict[str, Any], criteria: Criteria) -> list[Fact]:
    """The rule's 2026 threshold, only when re-running the rule on the known slots reproduces the reported reasons."""
    if verdict.program is None:
        return []
    couple = known.get("household_type")
    household = Household(
        size=known.get("household_size"),
        monthly_income=known.get("monthly_income"),
        age=known.get("age"),
        couple=None if couple is None else couple == "couple",
        child_age=known.get("child_age"),
    )
    result = check(verdict.program, household, criteria)
    if result is None or result.threshold_won is None or result.verdict != verdict.verdict:
        return []
    if _parts(explain(result))[1] != verdict.reasons:
        return []  # the slots or the criteria changed since the verdict: show only what was reported
    cited = ", ".join(f"{s.title} ({s.updated_at})" for s in result.sources)
    return [Fact(f"{result.program} 선정기준(월)", won(result.threshold_won), f"모의 계산 규칙(2026년 기준): {cited}")]


def last_verdict(turns: Sequence[dict[str, Any]]) -> Verdict | None:
    """The latest mock-eligibility message (meta mode ``eligibility``) as the action reported it."""
    turn = next((t for t in reversed(turns) if t.get("role") == "bot" and _meta(t).get("mode") == "eligibility"), None)
    if turn is None:
        return None
    meta = _meta(turn)
    code = str(meta.get("verdict") or "")
    text = str(turn.get("text") or "")
    summary, reasons, notes, caveat = _parts(text)
    program = summary.removeprefix("[모의 계산]").split(":", 1)[0].strip() if summary.startswith("[모의 계산]") else None
    return Verdict(
        program=program or None,
        verdict=code,
        verdict_label=VERDICT_LABELS.get(code, code),
        summary=summary,
        reasons=reasons,
        notes=notes,
        caveat=caveat,
        text=text,
        sources=_shown_sources(meta),
        turn_id=turn.get("id"),
        created_at=turn.get("created_at"),
    )


def _parts(text: str) -> tuple[str, list[str], list[str], str]:
    """A verdict text (knowledge.rules.eligibility.explain) as its summary line, reasons, notes and caveat."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    summary = next((line for line in lines if line.startswith("[모의 계산]")), "")
    reasons = [line[2:] for line in lines if line.startswith("- ")]
    notes = [line[2:] for line in lines if line.startswith("※ ")]
    caveat = next((line for line in lines if line.startswith("이 결과는")), "")
    return summary, reasons, notes, caveat


def bot_answers(turns: Sequence[dict[str, Any]]) -> list[BotAnswer]:
    """Each bot answer (handoff notices and form questions left out, unless rated 👎), with its question."""
    answers: list[BotAnswer] = []
    question: str | None = None
    for turn in turns:
        meta = _meta(turn)
        if turn.get("role") == "citizen":
            question = str(meta.get("label") or turn.get("text") or "") or None
            continue
        if turn.get("role") != "bot" or meta.get("stream"):
            continue  # an agent's reply, or an answer still being written
        mode = meta.get("mode") if isinstance(meta.get("mode"), str) else None
        feedback = turn.get("feedback")
        if mode not in MODE_LABELS and feedback != "down":
            continue
        answers.append(
            BotAnswer(
                turn_id=turn.get("id"),
                question=question,
                text=str(turn.get("text") or ""),
                mode=mode,
                mode_label="위기 안내" if meta.get("crisis") else MODE_LABELS.get(mode or "", "챗봇 안내 문구"),
                sources=_shown_sources(meta),
                feedback=feedback if feedback in ("up", "down") else None,
                created_at=turn.get("created_at"),
                failed_because=_failures(mode, meta, feedback),
            )
        )
    return answers


def _failures(mode: str | None, meta: dict[str, Any], feedback: Any) -> list[str]:
    """Why an answer counts as failed, in Korean: nothing found, the system broke, or a 👎."""
    reasons = []
    if mode == "none" and not meta.get("crisis") and not meta.get("handoff"):
        reasons.append("답을 찾지 못함")
    if mode == "unavailable":
        reasons.append("답변 시스템 오류로 답하지 못함")
    if feedback == "down":
        reasons.append("시민이 👎로 평가함")
    return reasons


def _meta(turn: dict[str, Any]) -> dict[str, Any]:
    meta = turn.get("meta")
    return meta if isinstance(meta, dict) else {}


def _shown_sources(meta: dict[str, Any]) -> list[dict[str, str]]:
    """The sources recorded with a turn, as recorded (title, url, date, location)."""
    keys = ("title", "url", "updated_at", "location")
    raw = meta.get("sources")
    return [
        {k: str(s[k]) for k in keys if s.get(k)}
        for s in (raw if isinstance(raw, list) else [])
        if isinstance(s, dict) and s.get("title")
    ]
