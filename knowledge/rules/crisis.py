"""Crisis safety: the helpline message comes first, and a keyword net backs up the NLU intent."""

from __future__ import annotations

import re

from knowledge.domain.answer import Answer
from knowledge.domain.helpline import Helpline
from knowledge.korean.text import normalize

# A classifier can miss a crisis; these phrases always count (spacing removed before matching).
_CRISIS_PATTERNS = re.compile(
    "|".join(
        [
            r"죽고싶",
            r"죽을래",
            r"자살",
            r"목숨을?끊",
            r"살기싫",
            r"못살겠",
            r"살고싶지않",
            r"사라지고싶",
            r"자해",
            r"뛰어내리",
            r"때려요|때린다|맞고있|폭행",
            r"학대",
        ]
    )
)


def is_crisis(text: str) -> bool:
    """Whether a message signals danger to life or safety."""
    return bool(_CRISIS_PATTERNS.search(normalize(text).replace(" ", "")))


def crisis_reply(helplines: dict[str, Helpline]) -> Answer:
    """One short message with 109, 129 and 119 first, each number from its source."""
    suicide = helplines["suicide_prevention"]
    welfare = helplines["welfare_call_center"]
    emergency = helplines["emergency"]
    text = (
        f"지금 많이 힘드시군요. 혼자 견디지 않으셔도 돼요. "
        f"{suicide.name} {suicide.number}({suicide.hours}), "
        f"{welfare.name} {welfare.number}(위기 상담 24시간), "
        f"위험한 상황이면 {emergency.number}에 바로 전화해 주세요. "
        "상담원에게도 지금 바로 연결해 드릴게요."
    )
    return Answer(
        text=text,
        sources=tuple(line.as_source() for line in (suicide, welfare, emergency)),
        confidence=1.0,
        mode="none",
    )
