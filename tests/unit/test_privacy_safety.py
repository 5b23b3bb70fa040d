import pytest

from knowledge.ingestion.seed_files import load_helplines
from knowledge.rules.crisis import crisis_reply, is_crisis
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


@pytest.mark.parametrize("text", ["죽고 싶어요", "더이상 못 살겠어요", "남편이 때려요", "자 살 생각이 나요"])
def test_crisis_phrases_are_caught(text: str) -> None:
    assert is_crisis(text)


@pytest.mark.parametrize("text", ["기초연금 얼마예요", "죽 먹고 싶어요", "살 빼는 법"])
def test_ordinary_messages_are_not_crisis(text: str) -> None:
    assert not is_crisis(text)


def test_crisis_reply_puts_helplines_first_with_sources() -> None:
    reply = crisis_reply(load_helplines())
    assert reply.text.index("109") < reply.text.index("129") < reply.text.index("119")
    assert len(reply.text) < 200
    assert {s.title for s in reply.sources} >= {load_helplines()["suicide_prevention"].source.title}
