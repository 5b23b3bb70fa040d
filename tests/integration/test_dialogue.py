"""Multi-turn dialogue through the real stack: the eligibility form, corrections, carry-over, cancel."""

from __future__ import annotations

import pytest

from tests.integration.conftest import RunningStack
from tests.integration.test_chat import chat

pytestmark = pytest.mark.integration


def texts(stack: RunningStack, session: str, text: str) -> str:
    return "\n".join(m["text"] for m in chat(stack, session, text))


def test_housing_check_with_typos_and_a_correction_in_four_turns(stack: RunningStack) -> None:
    assert "몇 명" in texts(stack, "e1", "주거급여 받을수잇나요")
    assert "소득" in texts(stack, "e1", "네식구요")
    correction = texts(stack, "e1", "아 아니 3명이요")
    assert "가구원 수를 3명으로 바꿨어요" in correction and "알아듣지 못했어요" not in correction
    verdict = chat(stack, "e1", "월 이백")
    text = verdict[0]["text"]
    assert "[모의 계산] 주거급여: 받으실 가능성이 있어요" in text
    assert "2,000,000원" in text and "2,572,337원" in text and "5,359,036원" in text and "48%" in text
    assert "소득인정액 조사" in text  # the official decision comes after the income assessment
    assert verdict[0]["sources"]
    assert "신청" in texts(stack, "e1", "네")


def test_everything_in_one_message_gets_a_verdict_at_once(stack: RunningStack) -> None:
    text = texts(stack, "e2", "4인가구 월300 버는데 주거급여 됨?")
    assert "3,000,000원" in text and "3,117,474원" in text


def test_program_asked_about_earlier_carries_over(stack: RunningStack) -> None:
    chat(stack, "e3", "기초연금 얼마에요")
    assert "몇 세" in texts(stack, "e3", "그거 나도 받을 수 있어?")
    assert "혼자" in texts(stack, "e3", "만 67세요")
    assert "소득" in texts(stack, "e3", "혼자 살아요")
    assert "349,700원" in texts(stack, "e3", "100만원 정도")


def test_known_values_are_not_asked_again(stack: RunningStack) -> None:
    reply = texts(stack, "e4", "울엄마 66살인데 기초연금 받을수있음?")
    assert "몇 세" not in reply and "혼자" in reply


def test_the_form_can_be_cancelled(stack: RunningStack) -> None:
    assert "몇 명" in texts(stack, "e5", "생계급여 받을 수 있을까요?")
    assert "모의 계산을 그만할게요" in texts(stack, "e5", "그만할래요")  # the form's own cancel, not the general one
    after = texts(stack, "e5", "안녕하세요")
    assert "복지 안내 챗봇" in after and "몇 명" not in after, "the form is over: nothing is asked again"
