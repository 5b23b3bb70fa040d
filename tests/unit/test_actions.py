"""Actions run against a hand-built tracker and the real knowledge service."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerWelfare, contextual_query
from actions.handoff import ActionCrisisSupport, ActionRequestHuman
from actions.server import build_actions
from knowledge.answer import KnowledgeService


def tracker(text: str, program: str | None = None, entities: list[dict[str, Any]] | None = None) -> Tracker:
    return Tracker(
        sender_id="web:t",
        slots={"program": program},
        latest_message={"text": text, "intent": {"name": "ask_welfare"}, "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action: Any, t: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages


def test_answer_carries_sources_as_custom_json(service: KnowledgeService) -> None:
    [message] = run(ActionAnswerWelfare(service), tracker("기초연금 얼마 받을 수 있어요?"))
    assert "349,700원" in message["text"]
    assert message["custom"]["mode"] == "faq"
    assert message["custom"]["sources"][0]["url"].startswith("https://")


def test_not_found_offers_a_human(service: KnowledgeService) -> None:
    [message] = run(ActionAnswerWelfare(service), tracker("우주 여행 보조금 주나요"))
    assert message["custom"]["mode"] == "none"
    assert {"title": "상담원 연결", "payload": "/request_human"} in message["buttons"]


def test_follow_up_uses_the_program_from_earlier_turns(service: KnowledgeService) -> None:
    [message] = run(ActionAnswerWelfare(service), tracker("그거 어디서 신청해요?", program="기초연금"))
    assert message["custom"]["doc_id"] == "basic-pension-apply"


def test_contextual_query_only_rewrites_back_references() -> None:
    assert contextual_query("그거 어디서 신청해요?", "기초연금", mentioned=False) == "기초연금 그거 어디서 신청해요?"
    assert contextual_query("아동수당 얼마예요?", "기초연금", mentioned=True) == "아동수당 얼마예요?"
    assert contextual_query("주민센터 몇 시까지 해요?", "기초연금", mentioned=False) == "주민센터 몇 시까지 해요?"


def test_crisis_missed_by_nlu_is_still_caught(service: KnowledgeService) -> None:
    [message] = run(ActionAnswerWelfare(service), tracker("요즘 정말 죽고싶다는 생각만 들어요"))
    assert message["text"].startswith("지금 많이 힘드시군요")
    assert message["custom"]["handoff"] == {"reason": "crisis"}


def test_handoff_and_crisis_actions_flag_the_chat(service: KnowledgeService) -> None:
    [human] = run(ActionRequestHuman(service.helplines), tracker("상담원 연결"))
    assert human["custom"]["handoff"] == {"reason": "requested"} and "129" in human["text"]
    [crisis] = run(ActionCrisisSupport(service.helplines), tracker("죽고 싶어요"))
    assert crisis["custom"]["handoff"]["urgent"] is True


def test_action_names_match_the_domain(service: KnowledgeService) -> None:
    import yaml

    from knowledge.settings import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    assert {a.name() for a in build_actions(service)} == set(domain["actions"])
