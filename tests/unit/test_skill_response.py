"""SkillResponse rendering: any answer fits Kakao's format and limits; callbackUrl hosts are checked."""

from __future__ import annotations

import json

import pytest

from channels.conversation import BotMessage, Button
from channels.kakao_delivery import callback_allowed
from channels.skill_response import render, split_text
from tests.kakao_support import SOURCE, assert_skill_response, list_card, texts


def test_long_answers_are_split_at_sentence_ends_within_1000_characters() -> None:
    sentence = "기초연금은 소득과 재산을 따져서 드려요. "
    pieces = split_text(sentence * 120)
    assert len(pieces) > 2 and all(len(p) <= 1000 for p in pieces)
    assert all(p.endswith("드려요.") for p in pieces)
    assert "".join(pieces).replace(" ", "") == (sentence * 120).replace(" ", "")


@pytest.mark.parametrize("length", [999, 1000, 1001, 2500, 5000, 20000])
def test_any_answer_length_fits_three_outputs(length: int) -> None:
    message = BotMessage("가나다라마바사. " * (length // 9 + 1), sources=(SOURCE,))
    rendered = render([message], operator=True)
    body = assert_skill_response(rendered.body)
    assert rendered.complete is (length <= 2000)
    if not rendered.complete:
        assert "일부만" in texts(body) or "앞부분만" in texts(body)


def test_many_buttons_and_sources_are_cut_to_kakao_limits() -> None:
    buttons = tuple(Button(f"아주 긴 추천 질문 제목 번호 {i}번 입니다", f"질문 {i}") for i in range(15))
    sources = tuple({"title": f"출처 문서 {i} " + "제목" * 30, "url": f"https://example.go.kr/{i}", "updated_at": "2026-01-09"}
                    for i in range(8))  # fmt: skip
    body = assert_skill_response(render([BotMessage("답변이에요.", buttons, sources)], operator=True).body)
    replies = body["template"]["quickReplies"]
    assert len(replies) == 10 and len({r["label"] for r in replies}) == 10, "labels stay tellable apart"
    assert [r["messageText"] for r in replies] == [b.title for b in buttons[:10]]
    assert len(list_card(body)["items"]) == 5


def test_unsafe_source_urls_are_not_linked() -> None:
    source = {"title": "출처", "url": "javascript:alert(1)", "updated_at": ""}
    body = assert_skill_response(render([BotMessage("답변이에요.", sources=(source,))], operator=False).body)
    assert "javascript" not in json.dumps(body)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://bot-api.kakao.com/v1/callback/abc", True),
        ("https://kakao.com/cb", True),
        ("http://bot-api.kakao.com/v1/callback/abc", False),
        ("https://kakao.com.attacker.net/cb", False),
        ("https://evilkakao.com/cb", False),
        ("http://127.0.0.1:9/cb", False),
        ("javascript:alert(1)", False),
    ],
)
def test_callback_hosts(url: str, allowed: bool) -> None:
    assert callback_allowed(url, ["kakao.com"]) is allowed
