"""The grounding check: numbers in a generated answer must come from the passages it cites."""

from __future__ import annotations

import pytest

from knowledge.answering.grounding import (
    attribute_citations,
    best_extract,
    check_grounding,
    citations,
    extract_facts,
    focus_passage,
    renumber_citations,
    unsupported_facts,
)

PENSION = "2026년 기초연금 기준연금액은 월 349,700원이에요. 만 65세 이상이고 소득인정액이 2,470,000원 이하면 받을 수 있어요."
CONTACT = "국민건강보험공단 고객센터는 1577-1000이에요. 평일 9~18시에 상담해요."
CRITERIA = "생계급여는 기준 중위소득의 32% 이하, 의료급여는 40% 이하 가구가 받아요."


def test_an_answer_that_copies_its_cited_passage_passes() -> None:
    verdict = check_grounding("기초연금은 월 349,700원까지 받을 수 있어요 [1].", [PENSION, CONTACT])
    assert verdict.ok and verdict.cited == (1,)


def test_an_invented_amount_fails_even_if_the_sentence_cites_a_passage() -> None:
    verdict = check_grounding("기초연금은 월 35만 원까지 받을 수 있어요 [1].", [PENSION])
    assert not verdict.ok and verdict.unsupported == ("35만 원",)


def test_the_same_amount_written_with_korean_units_is_the_same_fact() -> None:
    assert check_grounding("최대 34만 9,700원이에요 [1].", [PENSION]).ok
    assert check_grounding("65살 이상이면 돼요 [1].", [PENSION]).ok


def test_a_number_only_in_an_uncited_passage_is_not_supported() -> None:
    verdict = check_grounding("건강보험공단은 1577-1000이에요 [1].", [PENSION, CONTACT])
    assert verdict.unsupported == ("1577-1000",)
    assert check_grounding("건강보험공단은 1577-1000이에요 [2].", [PENSION, CONTACT]).ok


@pytest.mark.parametrize(
    "answer, bad",
    [
        ("생계급여는 중위소득 30% 이하예요 [1].", "30%"),  # percentage
        ("생계급여는 중위소득 32퍼센트 이하예요 [1]. 2027년부터 바뀌어요 [1].", "2027년"),  # date
        ("129나 1577-1001로 전화하세요 [1].", "1577-1001"),  # phone number
        ("매달 삼십만 원을 받아요 [1].", "삼십만 원"),  # spelled-out amount
    ],
)
def test_every_kind_of_number_is_checked(answer: str, bad: str) -> None:
    verdict = check_grounding(answer, [CRITERIA + " 상담은 129에서 해요."])
    assert bad in verdict.unsupported


def test_percent_written_as_a_word_matches_the_symbol() -> None:
    assert check_grounding("생계급여는 32퍼센트, 의료급여는 40% 이하예요 [1].", [CRITERIA]).ok


def test_a_citation_to_a_passage_that_was_not_retrieved_fails() -> None:
    verdict = check_grounding("기초연금은 월 349,700원이에요 [1][3].", [PENSION, CONTACT])
    assert not verdict.ok and verdict.bad_citations == (3,)


def test_an_answer_without_any_citation_fails() -> None:
    verdict = check_grounding("기초연금은 주민센터에서 신청해요.", [PENSION])
    assert not verdict.ok and "no citation" in verdict.reasons


def test_citations_and_list_numbers_are_not_facts() -> None:
    assert extract_facts("1. 주민센터에 가세요 [2]\n2. 신분증을 챙기세요 [1, 2]") == []
    assert citations("a [2] b [1, 3] c [2]") == [2, 1, 3]


def test_amounts_with_multipliers_are_summed() -> None:
    [fact] = extract_facts("1억 2천만 원")
    assert (fact.value, fact.unit) == ("120000000", "원")


def test_renumbering_follows_the_sources_shown() -> None:
    assert renumber_citations("가 [2]. 나 [3][2]. 다 [1].", [2, 3]) == "가 [1]. 나 [2][1]. 다 ."


def test_audit_finds_numbers_in_none_of_the_sources() -> None:
    assert unsupported_facts("월 349,700원, 상담은 129 [1]", [PENSION, "보건복지상담센터 129"]) == []
    assert unsupported_facts("월 400,000원", [PENSION]) == ["400,000원"]


def test_best_extract_copies_the_most_relevant_sentences_of_the_best_passage() -> None:
    text, number = best_extract("건강보험공단 전화번호", [PENSION, CONTACT])
    assert number == 2 and "1577-1000" in text
    assert check_grounding(f"{text} [{number}]", [PENSION, CONTACT]).ok


def test_best_extract_of_nothing_is_empty() -> None:
    assert best_extract("질문", []) == ("", 0)


def test_an_uncited_faithful_answer_gets_the_marker_of_the_passage_its_numbers_come_from() -> None:
    text = attribute_citations("건강보험공단은 1577-1000이에요. 평일에 전화하세요.", [PENSION, CONTACT])
    assert text.startswith("건강보험공단은 1577-1000이에요 [2].")
    assert check_grounding(text, [PENSION, CONTACT]).ok


def test_attribution_never_rescues_an_invented_number() -> None:
    text = attribute_citations("기초연금은 월 400,000원이에요.", [PENSION, CONTACT])
    assert citations(text) == [] and not check_grounding(text, [PENSION, CONTACT]).ok


def test_attribution_leaves_cited_answers_alone() -> None:
    answer = "기초연금은 1577-1000에 물어보세요 [1]."
    assert attribute_citations(answer, [PENSION, CONTACT]) == answer


def test_a_phone_number_said_with_beon_matches_the_bare_number() -> None:
    passage = "범죄를 당했다면 112로 신고하세요."
    assert check_grounding("범죄 신고는 112번이에요 [1].", [passage]).ok
    assert not check_grounding("범죄 신고는 113번이에요 [1].", [passage]).ok


LONG = (
    "기초연금 안내\n"
    "기초연금은 노후 생활을 돕기 위한 제도예요. "
    "2026년 기준연금액은 월 349,700원이에요. "
    "신청은 주소지 주민센터나 국민연금공단 지사에서 할 수 있어요. "
    "부부가 모두 받으면 각각 20%씩 줄어요."
)


def test_a_long_passage_keeps_its_title_and_the_sentences_the_question_asks_about_in_order() -> None:
    focused = focus_passage("기초연금 기준연금액 월 얼마예요?", LONG, 80)
    assert focused.startswith("기초연금 안내\n") and len(focused) <= 80
    assert "349,700원" in focused and "주민센터" not in focused
    where = focus_passage("기초연금 신청은 어디서 하나요? 연금액도요", LONG, 110)
    assert where.index("349,700원") < where.index("주민센터")  # the passage's order, not the ranking's


def test_a_passage_that_fits_is_given_whole() -> None:
    assert focus_passage("기초연금 얼마예요?", LONG, len(LONG)) == LONG
