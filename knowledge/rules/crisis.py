"""Crisis safety: recognise a crisis and its kind in any message, and put that kind's helplines first.

:func:`detect_crisis` is the one check every citizen message goes through (the web app runs it before
Rasa; the answer action runs it too, for a Rasa reached some other way). The phrases live in
:mod:`knowledge.rules.crisis_cues`; ``tests/data/crisis_eval.yaml`` measures them.

What counts: danger to someone's life or safety now, said directly or indirectly ("다 끝내고 싶어요",
"남편이 때려요", "숨을 못 쉬어요", "며칠째 굶고 있어요"), also about someone else ("옆집 애가 맨날 맞는
소리가 나요"). What does not: figures of speech ("웃겨 죽겠어", "시끄러워서 못 살겠어요"), welfare questions
about a death or an emergency ("유족연금", "긴급복지지원", "쓰러지셔서 입원했는데 간병비"), and questions
*about* a crisis topic that signal none ("폭행 신고 방법 알려줘", "아동학대 신고는 어디에 해요"). Those are
answered like any question (the FAQ entries name 112, 109 ...), without an urgent handoff. Someone who
says they are the victim ("당하고 있어요") or names a method ("자살 방법") is in a crisis however they ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.domain.answer import Answer
from knowledge.domain.helpline import Helpline
from knowledge.rules import crisis_cues as cues

CrisisKind = Literal["suicide", "violence", "child_abuse", "elder_abuse", "emergency", "hardship"]
"""suicide also covers self-harm; violence: domestic, dating, sexual, stalking, threats; hardship: no food,
no shelter tonight, heating cut."""

# The lines each kind names first, then the one to call if it is dangerous right now; 129 is always named.
_LINES: dict[CrisisKind, tuple[str, ...]] = {
    "suicide": ("suicide_prevention",),
    "violence": ("police", "women_emergency"),
    "child_abuse": ("police",),
    "elder_abuse": ("elder_protection",),
    "emergency": ("emergency",),
    "hardship": ("welfare_call_center",),
}
_DANGER: dict[CrisisKind, str] = {"suicide": "emergency", "elder_abuse": "police", "hardship": "emergency"}
ALWAYS = "welfare_call_center"
_OPENING: dict[CrisisKind, str] = {
    "suicide": "많이 힘드시죠. 혼자 견디지 않으셔도 돼요.",
    "violence": "말씀해 주셔서 고마워요. 지금은 안전이 가장 중요해요.",
    "child_abuse": "말씀해 주셔서 고마워요. 지금은 안전이 가장 중요해요.",
    "elder_abuse": "말씀해 주셔서 고마워요. 어르신의 안전이 가장 중요해요.",
    "emergency": "",
    "hardship": "많이 힘드시겠어요. 혼자 견디지 않으셔도 돼요.",
}
_CALL: dict[CrisisKind, str] = {
    "suicide": "{lines}에서 지금 바로 이야기를 들어 드려요{hours}.",
    "violence": "{lines}에 지금 바로 신고하거나 상담하실 수 있어요{hours}.",
    "child_abuse": "{lines}에 지금 바로 신고해 주세요{hours}.",
    "elder_abuse": "{lines}에 지금 바로 신고하거나 상담하실 수 있어요{hours}.",
    "emergency": "지금 바로 {lines}에 전화해 주세요{hours}.",
    "hardship": "{lines}에서 지금 바로 긴급 지원을 상담해 드려요{hours}.",
}
# Staff may not be on duty: the handoff is requested, never promised, and the phone comes first.
_HANDOFF = "상담원 연결도 요청해 두었지만 시간이 걸릴 수 있으니 먼저 전화해 주세요."


@dataclass(frozen=True)
class Crisis:
    """A crisis found in a message: its kinds, the most urgent first (whose lines come first)."""

    kinds: tuple[CrisisKind, ...]

    @property
    def kind(self) -> CrisisKind:
        """The kind whose lines and words lead the reply."""
        return self.kinds[0]


def detect_crisis(text: str) -> Crisis | None:
    """The crisis a message signals, with its kinds (abuse before emergency before suicide before hardship)."""
    said = cues.compact(text)
    heard = cues.IDIOMS.sub("|", cues.sound(text))
    asks = bool(cues.INFORMATION.search(said))
    suffered = bool(cues.SUFFERED.search(heard))
    kinds: list[CrisisKind] = []
    abuse = (
        cues.VIOLENCE.search(heard)
        or (cues.HITTING.search(heard) and _names_someone(said))
        or (cues.TOPIC_VIOLENCE.search(heard) and (suffered or not asks))
    )
    if abuse:
        kinds.extend(_abuse_kinds(said))
    if cues.EMERGENCY.search(heard) and not cues.AFTERWARDS.search(said):
        kinds.append("emergency")
    if cues.SUICIDE.search(heard) or (cues.TOPIC_SUICIDE.search(heard) and (suffered or not asks)):
        kinds.append("suicide")
    if cues.HARDSHIP.search(heard) or (cues.HARDSHIP_UNLESS_ASKING.search(heard) and not cues.AFTERWARDS.search(said)):
        kinds.append("hardship")
    return Crisis(tuple(kinds)) if kinds else None


def _names_someone(said: str) -> bool:
    return any(role.search(said) for role in (cues.ELDER, cues.CHILD, cues.PARTNER, cues.PERSON))


def _abuse_kinds(said: str) -> list[CrisisKind]:
    """Elder or child abuse when the message names an older or a young person; violence otherwise or as well."""
    kinds: list[CrisisKind] = []
    if cues.ELDER.search(said):
        kinds.append("elder_abuse")
    if cues.CHILD.search(said):
        kinds.append("child_abuse")
    if cues.PARTNER.search(said) or not kinds:
        kinds.append("violence")
    return kinds


def _plan(crisis: Crisis) -> tuple[list[str], str | None]:
    """The lines to list (each kind's, then 129) and the danger line said on its own, if not listed already."""
    keys: list[str] = []
    for kind in crisis.kinds:
        keys.extend(k for k in _LINES[kind] if k not in keys)
    if ALWAYS not in keys:
        keys.append(ALWAYS)
    danger = _DANGER.get(crisis.kind)
    return keys, danger if danger is not None and danger not in keys else None


def crisis_lines(crisis: Crisis) -> tuple[str, ...]:
    """The helpline keys a reply names, in the order it names them."""
    listed, danger = _plan(crisis)
    return (*listed, danger) if danger else tuple(listed)


def crisis_reply(crisis: Crisis, helplines: dict[str, Helpline]) -> Answer:
    """One short, polite message: the right lines first (each number from its source), then the handoff."""
    listed, danger = _plan(crisis)
    lines = ", ".join(f"{helplines[k].name} {helplines[k].number}" for k in listed)
    hours = "(모두 24시간)" if len(listed) > 1 else "(24시간)"
    parts = [_OPENING[crisis.kind], _CALL[crisis.kind].format(lines=lines, hours=hours)]
    if danger is not None:
        parts.append(f"위험한 상황이면 {helplines[danger].number}에 바로 전화해 주세요.")
    parts.append(_HANDOFF)
    return Answer(
        text=" ".join(p for p in parts if p),
        sources=tuple(helplines[k].as_source() for k in crisis_lines(crisis)),
        confidence=1.0,
        mode="none",
    )


def check_in_reply(helplines: dict[str, Helpline]) -> Answer:
    """For a message the NLU took for a crisis but the phrases did not: ask gently, name 109 and 129, no handoff.

    The classifier's crisis intent also fires on "웃겨 죽겠어" and "살 빼는 법"; only :func:`detect_crisis`
    raises an urgent handoff, and this reply (with the usual 상담원 연결 button) covers what it might miss.
    """
    lines = [helplines["suicide_prevention"], helplines[ALWAYS]]
    listed = ", ".join(f"{line.name} {line.number}" for line in lines)
    text = (
        f"혹시 지금 힘든 일이 있으신가요? 마음이 힘드시면 {listed}에 언제든 전화하실 수 있어요(모두 24시간). "
        "복지에 관한 질문이셨다면 조금만 더 자세히 말씀해 주세요."
    )
    return Answer(text=text, sources=tuple(line.as_source() for line in lines), confidence=1.0, mode="none")
