import pytest

from knowledge.korean.quantities import (
    parse_age,
    parse_child_age,
    parse_household_size,
    parse_household_type,
    parse_income,
    particle,
)


@pytest.mark.parametrize(
    ("text", "size"),
    [("4인", 4), ("4명이요", 4), ("네 식구예요", 4), ("혼자 살아요", 1), ("아 아니 3명이요", 3), ("다섯명", 5),
     ("4인가구", 4), ("둘이 살아요", 2), ("몰라요", None), ("300만원", None)],
)  # fmt: skip
def test_household_size(text: str, size: int | None) -> None:
    assert parse_household_size(text) == size


@pytest.mark.parametrize(
    ("text", "income"),
    [("월 300", 3_000_000), ("300만원", 3_000_000), ("이백오십만 원", 2_500_000), ("월300 버는데", 3_000_000),
     ("1,200,000원", 1_200_000), ("소득 없어요", 0), ("150만", 1_500_000), ("삼백만원이요", 3_000_000),
     ("1억2천만원", 120_000_000), ("3명", None), ("66살", None), ("잘 모르겠어요", None)],
)  # fmt: skip
def test_income(text: str, income: int | None) -> None:
    assert parse_income(text) == income


def test_bare_small_number_is_manwon_only_when_asked() -> None:
    assert parse_income("300") == 3_000_000
    assert parse_income("300", assume_manwon=False) is None
    assert parse_income("월300 버는데", assume_manwon=False) == 3_000_000


@pytest.mark.parametrize(
    ("text", "age"),
    [("66살", 66), ("만 65세", 65), ("만65세", 65), ("칠십", 70), ("일흔둘", 72), ("예순다섯", 65),
     ("울엄마 66살인데", 66), ("4명", None)],
)  # fmt: skip
def test_age(text: str, age: int | None) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize(("text", "age"), [("8개월", 0), ("돌 전이에요", 0), ("두 살", 2), ("0세", 0), ("만 1세", 1)])
def test_child_age(text: str, age: int) -> None:
    assert parse_child_age(text) == age


@pytest.mark.parametrize(
    ("text", "kind"), [("혼자 살아요", "single"), ("남편이랑 둘이 살아요", "couple"), ("부부예요", "couple"), ("글쎄요", None)]
)
def test_household_type(text: str, kind: str | None) -> None:
    assert parse_household_type(text) == kind


@pytest.mark.parametrize(
    ("word", "pair", "expected"),
    [("3명", ("으로", "로"), "3명으로"), ("만 66세", ("으로", "로"), "만 66세로"), ("서울", ("으로", "로"), "서울로"),
     ("2,000,000원", ("으로", "로"), "2,000,000원으로"), ("가구원 수", ("을", "를"), "가구원 수를"),
     ("월 소득", ("을", "를"), "월 소득을"), ("4", ("으로", "로"), "4로"), ("3", ("으로", "로"), "3으로"), ("1", ("으로", "로"), "1로"), ("1", ("을", "를"), "1을")],
)  # fmt: skip
def test_particle(word: str, pair: tuple[str, str], expected: str) -> None:
    assert particle(word, *pair) == expected
