import pytest

from knowledge.rules.privacy import mask


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


def test_welfare_figures_are_not_masked() -> None:
    text = "4인 가구 월 300만원, 기초연금 349,700원, 66살, 129"
    assert mask(text) == text
