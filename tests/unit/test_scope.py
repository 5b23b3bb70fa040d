"""Scope rules on sentences written for these tests (never the frozen held-out set's questions)."""

from __future__ import annotations

import pytest

from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.rules.scope import FOREIGN, PERSONAL, PRODUCT, YEAR, is_personal_record, out_of_scope, scope_reason

# An entry like the seed's: a national program, this year's figures, where to apply.
PENSION = (
    "기초연금은 만 65세 이상이고 소득인정액이 선정기준액 이하인 어르신께 드립니다. 2026년 기준연금액은 월 349,700원입니다. "
    "주민센터, 국민연금공단 지사, 복지로에서 신청할 수 있고 해외에 60일 넘게 머무르면 지급이 정지됩니다."
)
CHILD = "아동수당은 8세 미만 아동에게 월 10만 원을 지급합니다. 부모나 보호자가 주민센터나 복지로에서 신청합니다."


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("노르웨이 아동수당은 얼마 나와요?", FOREIGN),
        ("포르투갈 연금 제도 어떻게 돼요", FOREIGN),
        ("에티오피아는 기초연금 같은 거 있나요?", FOREIGN),
        ("칠레의 노인 복지 혜택 알려 주세요", FOREIGN),
        ("호주로 이민 가면 받을 수 있는 수당은?", FOREIGN),
        ("2031년 기초연금 얼마예요?", YEAR),
        ("내년 기초연금 얼마로 오르나요", YEAR),
        ("제 기초연금 이번 달 왜 안 들어왔죠?", PERSONAL),
        ("울아빠 기초연금 심사 결과 나왔어요?", PERSONAL),
        ("박영희 님이 기초연금 대상자인지 확인해 주세요", PERSONAL),
        ("저희 어머니 기초연금 지급 중단됐는데 이유가 뭐예요", PERSONAL),
        ("우리 할머니 기초연금 신청한 거 진행 상황 좀 봐주세요", PERSONAL),
        ("보청기는 어느 브랜드가 좋아요?", PRODUCT),
        ("전동 휠체어 어디서 사면 제일 싸요?", PRODUCT),
        ("어르신 선물로 안마의자 추천 좀", PRODUCT),
        ("최저가 기저귀 파는 곳 알려줘", PRODUCT),
    ],
)
def test_questions_no_entry_can_answer_are_out_of_scope(analyzer: KiwiAnalyzer, question: str, reason: str) -> None:
    assert scope_reason(question, PENSION, analyzer=analyzer) == reason
    assert out_of_scope(question, PENSION, analyzer=analyzer)


@pytest.mark.parametrize(
    "question",
    [
        "기초연금 한 달에 최대 얼마 받아요?",
        "우리 엄마가 기초연금 받을 수 있는지 궁금해요",
        "제가 신청하면 결과는 언제쯤 나와요?",
        "미국에 사는 딸이 있어도 기초연금 받을 수 있나요",
        "대구 사는데 기초연금 신청 어디서 해요",
        "할머니가 해외에 석 달 있으면 기초연금 끊기나요?",
        "2026년 기초연금 얼마예요?",
        "저한테 맞는 복지 혜택 추천해 주세요",
        "돈이 다 떨어져서 밥을 못 먹고 있어요",
        "우리 집 수도가 끊겼어요 도와주세요",
        "기초연금 신청할 때 제 통장 사본도 가져가요?",
    ],
)
def test_ordinary_questions_stay_in_scope(analyzer: KiwiAnalyzer, question: str) -> None:
    assert scope_reason(question, PENSION, analyzer=analyzer) is None


def test_a_foreign_place_the_entry_names_is_not_refused(analyzer: KiwiAnalyzer) -> None:
    entry = CHILD + " 영국에서 태어난 아동도 한국 국적이면 받을 수 있습니다."
    assert not out_of_scope("영국 아동수당이랑 같이 받을 수 있어요?", entry, analyzer=analyzer)
    assert out_of_scope("영국 아동수당이랑 같이 받을 수 있어요?", CHILD, analyzer=analyzer)


def test_the_year_the_entry_covers_is_not_refused(analyzer: KiwiAnalyzer) -> None:
    assert not out_of_scope("2026년 아동수당 얼마예요?", CHILD + " (2026년 기준)", analyzer=analyzer)
    assert out_of_scope("2029년 아동수당 얼마예요?", CHILD + " (2026년 기준)", analyzer=analyzer)


def test_personal_record_needs_both_a_person_and_a_record(analyzer: KiwiAnalyzer) -> None:
    assert is_personal_record("제 아동수당 입금 내역 보여 주세요", analyzer=analyzer)
    assert not is_personal_record("아동수당 입금은 매달 언제 돼요?", analyzer=analyzer)  # no person: a general question
    assert not is_personal_record("제 아이가 아동수당 받을 나이인가요?", analyzer=analyzer)  # a person, no record


def test_the_analyzer_is_made_on_first_use_not_at_import() -> None:
    import importlib

    import knowledge.rules.scope as scope

    fresh = importlib.reload(scope)
    assert fresh._analyzer is None
    assert fresh.is_personal_record("옆집 최민수 씨가 수급자인지 알려 주세요")
    assert fresh._analyzer is not None
