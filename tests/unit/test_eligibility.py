"""Mock eligibility at and around every threshold of the 2026 criteria."""

import pytest

from knowledge.rules.eligibility import (
    SAFE_SHARE,
    Criteria,
    Household,
    check,
    explain,
    required_facts,
)

CRITERIA = Criteria.load()
MEDIAN = {1: 2_564_238, 2: 4_199_292, 3: 5_359_036, 4: 6_494_738, 5: 7_556_719}
PERCENT = {"생계급여": 32, "의료급여": 40, "주거급여": 48, "교육급여": 50}


@pytest.mark.parametrize("program", list(PERCENT))
@pytest.mark.parametrize("size", list(MEDIAN))
def test_livelihood_thresholds(program: str, size: int) -> None:
    line = MEDIAN[size] * PERCENT[program] // 100
    at = check(program, Household(size=size, monthly_income=line), CRITERIA)
    above = check(program, Household(size=size, monthly_income=line + 1), CRITERIA)
    well_below = check(program, Household(size=size, monthly_income=int(line * SAFE_SHARE)), CRITERIA)
    near = check(program, Household(size=size, monthly_income=int(line * SAFE_SHARE) + 1), CRITERIA)
    assert at is not None and above is not None and well_below is not None and near is not None
    assert at.threshold_won == line
    assert above.verdict == "unlikely"
    assert well_below.verdict == "likely"
    assert near.verdict == "needs_visit" and at.verdict == "needs_visit"


def test_housing_example_shows_the_numbers_compared_and_the_caveat() -> None:
    result = check("주거급여", Household(size=4, monthly_income=2_000_000), CRITERIA)
    assert result is not None and result.verdict == "likely"
    text = explain(result)
    assert "2,000,000원" in text and "3,117,474원" in text and "6,494,738원" in text and "48%" in text
    assert "소득인정액 조사" in text and "부양의무자" in text
    assert {s.title for s in result.sources} and all(s.url for s in result.sources)


def test_unconfirmed_household_sizes_need_a_visit() -> None:
    result = check("생계급여", Household(size=6, monthly_income=1_000_000), CRITERIA)
    assert result is not None and result.verdict == "needs_visit"
    assert "확인" in result.reasons[0]


@pytest.mark.parametrize(
    ("couple", "line"), [(False, 2_470_000), (True, 3_952_000)]
)
def test_basic_pension_thresholds(couple: bool, line: int) -> None:
    def verdict(income: int, age: int = 66) -> str:
        result = check("기초연금", Household(age=age, couple=couple, monthly_income=income), CRITERIA)
        assert result is not None
        return result.verdict

    assert verdict(line + 1) == "unlikely"
    assert verdict(line) == "needs_visit"
    assert verdict(int(line * SAFE_SHARE)) == "likely"
    assert verdict(0, age=64) == "unlikely"
    assert verdict(0, age=65) == "likely"


def test_basic_pension_states_the_2026_amount_only_when_it_may_apply() -> None:
    yes = check("기초연금", Household(age=70, couple=False, monthly_income=500_000), CRITERIA)
    no = check("기초연금", Household(age=70, couple=False, monthly_income=5_000_000), CRITERIA)
    assert yes is not None and "349,700원" in explain(yes)
    assert no is not None and "349,700원" not in explain(no)


@pytest.mark.parametrize(("age", "verdict"), [(0, "likely"), (8, "likely"), (9, "unlikely")])
def test_child_allowance_age_limit(age: int, verdict: str) -> None:
    result = check("아동수당", Household(child_age=age), CRITERIA)
    assert result is not None and result.verdict == verdict


@pytest.mark.parametrize(("age", "verdict"), [(0, "likely"), (1, "likely"), (2, "unlikely")])
def test_parental_benefit_age_and_review_caveat(age: int, verdict: str) -> None:
    result = check("부모급여", Household(child_age=age), CRITERIA)
    assert result is not None and result.verdict == verdict
    assert result.caveats  # the amounts are not confirmed by a primary notice yet


def test_missing_facts_need_a_visit_not_a_guess() -> None:
    result = check("주거급여", Household(size=3), CRITERIA)
    assert result is not None and result.verdict == "needs_visit"


def test_required_facts_depend_on_the_program() -> None:
    assert required_facts("주거급여") == ("household_size", "monthly_income")
    assert required_facts("기초연금") == ("age", "household_type", "monthly_income")
    assert required_facts("아동수당") == ("child_age",)
    assert required_facts("실업급여") == ()
    assert check("실업급여", Household(), CRITERIA) is None


def test_criteria_figures_match_the_reference() -> None:
    for size, value in MEDIAN.items():
        assert CRITERIA.median_income(size) == (value, True)
    assert CRITERIA.median_income(6)[1] is False
