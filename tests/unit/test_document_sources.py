"""A document answer in the channels: where it comes from (page, section) is shown; why it was chosen is kept for staff only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actions.render import answer_message
from channels.conversation import BotMessage
from channels.skill_response import LIST_ITEM_DESCRIPTION, LIST_ITEM_TITLE, render
from knowledge.domain.answer import Answer
from knowledge.domain.decision import DecisionRecord, HitScore
from knowledge.domain.source import Source
from tests.kakao_support import assert_skill_response, list_card
from tests.unit.fakes import ScriptedRasa

DOC_SOURCE = Source(
    title="예시시 청년 마음건강 안내", url="https://www.yesi.go.kr/mind", updated_at="2026-11-01", page=3, heading="2. 지원 대상"
)
LINE = Source(title="보건복지상담센터 129", url="https://www.129.go.kr", updated_at="2026-01-01")


def document_answer() -> list[dict[str, Any]]:
    """What Rasa returns for an extractive answer from a document, built by the action server's own renderer."""
    decision = DecisionRecord(
        question="예시시 청년 마음건강 바우처 누가 받아요? 제 번호 [전화번호]",
        mode="extractive",
        reason="confident_document",
        model_skipped="curated_answer",
        hits=[HitScore("yesi-mind-voucher", "document", 0.83, 0.951, 12.4, "예시시 청년 마음건강 안내")],
        thresholds={"faq_min_dense": 0.94},
        checks={"top_dense": 0.951, "confident": True},
        retrieve_ms=41.2,
        total_ms=43.0,
    )
    answer = Answer(
        text="안내 자료에서 찾은 내용을 그대로 옮겨 드려요: 만 19~34세 예시시 청년이 받을 수 있어요. [1]",
        sources=(DOC_SOURCE, LINE),
        confidence=0.951,
        mode="extractive",
        doc_id="yesi-mind-voucher",
        decision=decision,
    )
    message = answer_message(answer)
    return [
        {"recipient_id": "x", "text": message["text"], "buttons": message["buttons"]},
        {"recipient_id": "x", "custom": message["custom"]},
    ]


@pytest.fixture
def rasa() -> ScriptedRasa:
    fake = ScriptedRasa()
    fake.reply = document_answer()
    return fake


def test_a_document_source_names_its_page_and_section_in_every_public_response(client: FlaskClient) -> None:
    expected = {
        "title": "예시시 청년 마음건강 안내",
        "url": "https://www.yesi.go.kr/mind",
        "updated_at": "2026-11-01",
        "location": "3쪽 · 2. 지원 대상",
    }
    widget = client.post("/api/v1/widget/chat", json={"session_id": "d-1", "text": "마음건강 바우처 누가 받아요?"}).get_json()
    api = client.post("/api/v1/chat", json={"session_id": "d-2", "text": "마음건강 바우처 누가 받아요?"}).get_json()
    history = client.get("/api/v1/history?session_id=d-1").get_json()
    for message in (widget["messages"][0], api["messages"][0], history["messages"][1]):
        assert message["sources"][0] == expected
        assert "location" not in message["sources"][1], "an FAQ or helpline source has no location"


def test_the_decision_record_stays_in_the_transcript_and_never_reaches_a_citizen(app: Flask, client: FlaskClient) -> None:
    question = {"session_id": "d-3", "text": "마음건강 바우처 누가 받아요? 제 번호 010-1234-5678"}
    public = [
        client.post("/api/v1/widget/chat", json=question).get_data(as_text=True),
        client.post("/api/v1/widget/chat", json={**question, "stream": True}).get_data(as_text=True),
        client.post("/api/v1/chat", json=question).get_data(as_text=True),
        client.get("/api/v1/history?session_id=d-3").get_data(as_text=True),
    ]
    for body in public:
        assert "decision" not in body and "confident_document" not in body and "retrieve_ms" not in body
    [turn, *_] = [t for t in app.extensions["bokji.transcripts"].turns("web:d-3") if t["role"] == "bot"]
    decision = turn["meta"]["decision"]
    assert decision["mode"] == "extractive" and decision["reason"] == "confident_document"
    assert decision["hits"][0]["kind"] == "document" and decision["hits"][0]["doc_id"] == "yesi-mind-voucher"
    assert decision["retrieve_ms"] == 41.2 and decision["total_ms"] == 43.0
    assert turn["meta"]["sources"][0]["location"] == "3쪽 · 2. 지원 대상"


def test_a_message_restored_from_the_transcript_keeps_its_location() -> None:
    record = {"text": "답", "meta": {"sources": [{"title": "안내서", "url": "", "updated_at": "2026-11-01", "location": "2쪽"}]}}
    assert BotMessage.from_record(record).as_json()["sources"] == [
        {"title": "안내서", "url": "", "updated_at": "2026-11-01", "location": "2쪽"}
    ]


@pytest.mark.parametrize(
    ("source", "title"),
    [
        (DOC_SOURCE, "예시시 청년 마음건강 안내 (3쪽 · 2. 지원 대상)"),
        (Source(title="안내서", url="", updated_at="2026-11-01", page=12), "안내서 (12쪽)"),
        (Source(title="안내서", url="", updated_at="2026-11-01", heading="신청 방법"), "안내서 (신청 방법)"),
    ],
)
def test_kakao_shows_the_location_in_the_list_item_title_and_the_date_below(source: Source, title: str) -> None:
    message = BotMessage("답변이에요.", sources=({**source.model_dump(), "location": source.location},))
    [item] = list_card(assert_skill_response(render([message], operator=False).body))["items"]
    assert item["title"] == title
    assert item["description"] == "2026-11-01 기준"


def test_kakao_keeps_a_long_title_and_a_long_heading_within_the_item_limits() -> None:
    source = {
        "title": "2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다",
        "url": "",
        "updated_at": "2023-12-31",
        "location": "진천 국가대표 선수촌 양궁 훈련장 등 살피고 선수들 격려, 이천 장애인 국가대표 선수촌에서 선수들과 함께 식사",
    }
    other_place = {**source, "location": "5쪽"}
    items = list_card(assert_skill_response(render([BotMessage("답", sources=(source, other_place))], operator=False).body))[
        "items"
    ]
    assert len(items) == 2, "two places in one document are two items"
    assert all(len(i["title"]) <= LIST_ITEM_TITLE and len(i["description"]) <= LIST_ITEM_DESCRIPTION for i in items)
    assert items[0]["title"].startswith("2024 파리 올림픽") and "(진천 국가대표" in items[0]["title"]
    assert items[1]["title"].endswith("(5쪽)")
    assert json.dumps(items, ensure_ascii=False).count("2023-12-31 기준") == 2
