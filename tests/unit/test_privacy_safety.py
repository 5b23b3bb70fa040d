"""Masking of personal data: the variants people really type, and welfare figures that must stay as they are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.korean.quantities import parse_age, parse_child_age, parse_household_size, parse_income
from knowledge.rules.privacy import mask

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("제 번호 010-1234-5678이에요", "제 번호 [전화번호]이에요"),
        ("01012345678로 연락 주세요", "[전화번호]로 연락 주세요"),
        ("주민번호 900101-1234567", "주민번호 [주민등록번호]"),
        ("계좌 110-234-567890", "계좌 [계좌번호]"),
        ("카드 1234-5678-9012-3456", "카드 [카드번호]"),
        ("메일 hong.gil@example.co.kr 로", "메일 [이메일] 로"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    "written",
    [
        "900101.1234567",
        "900101–1234567",  # en dash
        "900101—1234567",  # em dash
        "900101−1234567",  # minus sign
        "900101‐1234567",  # hyphen
        "900101－1234567",  # fullwidth hyphen-minus
        "900101 1234567",
        "900101 - 1234567",
        "9001011234567",
        "9 0 0 1 0 1 1 2 3 4 5 6 7",
        "900101-1******",
    ],
)
def test_resident_numbers_in_every_spelling(written: str) -> None:
    assert mask(f"제 주민번호는 {written}이에요") == "제 주민번호는 [주민등록번호]이에요"


@pytest.mark.parametrize(
    "written",
    [
        "+82 10 1234 5678",
        "+82-10-1234-5678",
        "+82 010 1234 5678",
        "+821012345678",
        "82 10 1234 5678",
        "010 1234 5678",
        "010.1234.5678",
        "010–1234–5678",
        "0 1 0 1 2 3 4 5 6 7 8",
        "02-123-4567",
        "031 123 4567",
    ],
)
def test_phone_numbers_in_every_spelling(written: str) -> None:
    assert mask(f"연락처 {written} 입니다") == "연락처 [전화번호] 입니다"


def test_two_numbers_side_by_side_are_both_masked() -> None:
    assert mask("900101-1234567 010-1234-5678") == "[주민등록번호] [전화번호]"


def test_cards_accounts_and_email() -> None:
    assert mask("카드 1234 5678 9012 3456") == "카드 [카드번호]"
    assert mask("카드 1234567890123456") == "카드 [카드번호]"
    assert mask("계좌 1002–123–456789") == "계좌 [계좌번호]"
    assert mask("hong+bokji@mail.example.kr") == "[이메일]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("서울시 중구 세종대로 110에 살아요", "[주소]에 살아요"),
        ("주소는 예시시 행복구 중앙로123번길 45, 101동 1203호예요", "주소는 [주소]예요"),
        ("테헤란로 152", "[주소]"),
        ("가로수길 45-6 살아요", "[주소] 살아요"),
        ("역삼동 123-4번지에 살아요", "[주소]에 살아요"),
        ("행복동 산 12번지", "[주소]"),
        ("햇살아파트 101동 1203호에 혼자 살아요", "[주소]에 혼자 살아요"),
        ("아파트 101동 1203호", "[주소]"),
    ],
)
def test_addresses_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("제 이름은 홍길동이고 66세예요", "제 이름은 [이름]이고 66세예요"),
        ("이름은 김철수입니다", "이름은 [이름]입니다"),
        ("성함: 이영희", "성함: [이름]"),
        ("홍길동 / 서울시 중구 세종대로 110", "[이름] / [주소]"),
        ("박순자, 행복동 123-4번지", "[이름], [주소]"),
        ("김영순 예시시 중앙로 12", "[이름] [주소]"),
    ],
)
def test_names_given_as_names_or_next_to_an_address(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4인 가구 월 300만원, 기초연금 349,700원, 66살, 129",
        "2026년 4인 가구 월 349,700원, 66세",
        "만 65세 이상 소득하위 70%",
        "노인학대 신고는 1577-1389, 자살예방 109, 129",
        "1577-1389 129 둘 다 알려 주세요",
        "2026-01-15에 신청했어요",
        "2026.1.15 신청",
        "바로 119에 전화하세요",
        "첫째로 200만 원, 둘째로 300만 원",
        "집에서 가는 길 10분 걸려요",
        "예시시 행복동 사는데 기초연금 받을 수 있나요",
        "주민센터 2층 민원실로 오세요",
        "2호선 3번 출구",
        "이름이 뭐예요?",
        "기초연금 이름이 바뀌었나요",
        "한부모가족 아동양육비 월 23만원",
        "월 300 200 정도 벌어요",
        "기준 중위소득 50% 이하 3인 가구",
    ],
)
def test_welfare_figures_and_places_are_not_masked(text: str) -> None:
    assert mask(text) == text


def _questions(node: Any) -> Iterator[str]:
    """Every citizen question in a data file (questions, queries, crisis texts, NLU examples)."""
    if isinstance(node, list):
        for item in node:
            yield from _questions(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("question", "query", "text") and isinstance(value, str):
                yield value
            elif key == "examples" and isinstance(value, str):
                yield from (line.strip().removeprefix("- ").strip() for line in value.splitlines() if line.strip())
            elif isinstance(value, (dict, list)):
                yield from _questions(value)


QUESTION_FILES = [
    "bench/data/citizen_questions.yaml",
    "bench/data/frozen_heldout.yaml",
    "bench/data/retrieval_dev.yaml",
    "bench/data/answers_dev.yaml",
    "bench/data/nlu_heldout.yml",
    "tests/data/crisis_eval.yaml",
]


@pytest.mark.parametrize("name", QUESTION_FILES)
def test_real_citizen_questions_pass_unchanged(name: str) -> None:
    questions = list(_questions(yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))))
    assert len(questions) > 50
    changed = [(q, mask(q)) for q in questions if mask(q) != q]
    assert changed == []


def test_seed_knowledge_passes_unchanged() -> None:
    """The model reads masked passages: an office's phone or a program's amount must survive."""
    lines = [line for p in sorted((ROOT / "knowledge" / "seed").rglob("*.yaml")) for line in p.read_text("utf-8").splitlines()]
    assert [line for line in lines if mask(line) != line] == []


@pytest.mark.parametrize(
    "identifier",
    [
        "900101.1234567",
        "900101–1234567",
        "900101 1234567",
        "세종대로 110",
        "역삼동 123-4번지",
        "101동 1203호",
        "+82 10 1234 5678",
    ],
)
def test_a_masked_identifier_never_becomes_an_age_or_an_income(identifier: str) -> None:
    masked = mask(identifier)
    assert masked != identifier
    assert parse_age(masked) is None
    assert parse_income(masked) is None
    assert parse_income(masked, assume_manwon=False) is None
    assert parse_household_size(masked) is None
    assert parse_child_age(masked) is None


def test_the_slots_still_read_what_stands_beside_a_masked_identifier() -> None:
    assert parse_age(mask("900101.1234567 이고 66세예요")) == 66
    assert parse_income(mask("서울시 중구 세종대로 110 살고 월 50만 원 벌어요")) == 500_000


def test_a_particle_before_the_number_is_not_read_as_a_number() -> None:
    """ "이제"/"이고" before "66세" once gave the age 3 (the 세 of 66세 read as "three")."""
    assert parse_age("저는 이제 66세예요") == 66
    assert parse_age("사실 66세") == 66
