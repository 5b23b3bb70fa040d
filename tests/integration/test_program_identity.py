"""Program identity through the real stack: the mock check judges only the program the citizen named."""

from __future__ import annotations

import pytest

from tests.integration.conftest import RunningStack
from tests.integration.test_chat import chat

pytestmark = pytest.mark.integration


def everything(messages: list[dict[str, object]]) -> str:
    return "\n".join(f"{m.get('text')} {m.get('sources')}" for m in messages)


def test_youth_rent_support_is_never_judged_as_housing_benefit(stack: RunningStack) -> None:
    messages = chat(stack, "p1", "청년 월세 지원 받을 수 있나요")
    assert str(messages[0]["text"]).startswith("청년월세 지원은 모의 계산이 아직 없어요.")
    text = everything(messages)
    assert "주거급여:" not in text and "[모의 계산]" not in text and "몇 명" not in text
    assert "청년월세" in everything(messages[1:])  # its conditions, from the knowledge base


def test_diapers_and_formula_question_is_about_that_program(stack: RunningStack) -> None:
    text = everything(chat(stack, "p2", "기저귀 분유 지원 대상이 어떻게 돼요"))
    assert "지원은(는)" not in text and "지원은 모의" not in text
    assert "기저귀" in text


def test_plain_rent_support_asks_which_program_and_a_tap_answers_it(stack: RunningStack) -> None:
    [question] = chat(stack, "p3", "월세 지원 받을 수 있나요")
    assert "주거급여" in str(question["text"]) and "청년월세 지원" in str(question["text"])
    buttons = {b["title"]: b["payload"] for b in question["buttons"]}
    assert set(buttons) == {"주거급여", "청년월세 지원"}
    answer = chat(stack, "p3", buttons["청년월세 지원"])
    assert str(answer[0]["text"]).startswith("청년월세 지원은 모의 계산이 아직 없어요.")
