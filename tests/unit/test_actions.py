"""Actions run against a hand-built tracker and the real knowledge service."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerWelfare
from actions.handoff import ActionCrisisSupport, ActionRequestHuman
from actions.server import build_actions
from actions.settings import ActionServerSettings
from actions.streams import AnswerStreams
from knowledge.answering.service import KnowledgeService
from tests.unit.fakes import ScriptedChat

AMOUNT_Q = "기초연금 최대 얼마까지 받을 수 있어요?"
STREAM = {"stream": True}


def tracker(
    text: str,
    program: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    return Tracker(
        sender_id="web:t",
        slots={"program": program},
        latest_message={"text": text, "intent": {"name": "ask_welfare"}, "entities": entities or [], "metadata": metadata},
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


def test_a_program_named_by_a_synonym_is_remembered_for_follow_ups_and_new_programs_win(service: KnowledgeService) -> None:
    events = [{"event": "user", "text": "노인연금 얼마예요?"}, {"event": "bot", "text": "월 349,700원이에요."}]
    t = tracker("그거 어디서 신청해요?", program="기초연금")
    t.events = [*events, {"event": "user", "text": "그거 어디서 신청해요?"}]
    [message] = run(ActionAnswerWelfare(service), t)
    assert message["custom"]["doc_id"] == "basic-pension-apply"
    [message] = run(ActionAnswerWelfare(service), tracker("아동수당 얼마예요?", program="기초연금"))
    assert message["custom"]["doc_id"] == "child-allowance-amount"


def test_crisis_missed_by_nlu_is_still_caught_with_an_urgent_handoff(service: KnowledgeService) -> None:
    [message] = run(ActionAnswerWelfare(service), tracker("요즘 정말 죽고싶다는 생각만 들어요"))
    assert message["text"].index("109") < message["text"].index("129")
    assert message["custom"]["handoff"] == {"reason": "crisis", "urgent": True}
    assert message["custom"]["crisis"] == "suicide"


def test_handoff_and_crisis_actions_flag_the_chat(service: KnowledgeService) -> None:
    [human] = run(ActionRequestHuman(service.helplines), tracker("상담원 연결"))
    assert human["custom"]["handoff"] == {"reason": "requested"} and "129" in human["text"]
    [crisis] = run(ActionCrisisSupport(service.helplines), tracker("남편이 때려요"))
    assert crisis["custom"]["handoff"]["urgent"] is True
    assert crisis["text"].index("112") < crisis["text"].index("1366") < crisis["text"].index("129")


def test_a_crisis_intent_the_phrases_do_not_confirm_gets_a_check_in_without_a_handoff(service: KnowledgeService) -> None:
    [reply] = run(ActionCrisisSupport(service.helplines), tracker("웃겨 죽겠어"))
    assert reply["text"].index("109") < reply["text"].index("129") and "힘든 일" in reply["text"]
    assert "handoff" not in reply["custom"] and reply["custom"]["crisis"] == "unconfirmed"
    assert {"title": "상담원 연결", "payload": "/request_human"} in reply["buttons"]


def test_action_names_match_the_domain(service: KnowledgeService) -> None:
    import yaml

    from knowledge.settings import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    assert {a.name() for a in build_actions(service)} == set(domain["actions"])


def test_a_streaming_channel_gets_a_generated_answer_sentence_by_sentence(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요 [1]. 신청은 주민센터에서 해요 [1]."
    streams = AnswerStreams()
    action = ActionAnswerWelfare(build(ScriptedChat(replies=[reply]), faq=False), streams)
    [placeholder] = run(action, tracker(AMOUNT_Q, metadata=STREAM))
    assert placeholder["text"] is None and placeholder["custom"]["mode"] == "generated"
    log = streams.get(placeholder["custom"]["stream"])
    assert log is not None
    events = list(log.follow(10))
    assert [e["event"] for e in events] == ["delta", "delta", "final"]
    assert events[0]["text"].startswith("기초연금은 월 349,700원까지 받을 수 있어요 [1].")
    final = events[-1]
    assert final["text"].startswith(reply) and final["custom"]["mode"] == "generated"
    assert final["custom"]["sources"][0]["title"] and "129" in final["custom"]["sources"][-1]["title"]


def test_an_invented_amount_is_taken_back_in_the_stream(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요 [1]. 내년에는 월 400,000원이 돼요 [1]."
    streams = AnswerStreams()
    action = ActionAnswerWelfare(build(ScriptedChat(replies=[reply]), faq=False), streams)
    [placeholder] = run(action, tracker(AMOUNT_Q, metadata=STREAM))
    log = streams.get(placeholder["custom"]["stream"])
    assert log is not None
    events = list(log.follow(10))
    assert [e["event"] for e in events] == ["delta", "reset", "final"]
    # What the citizen can see (texts, sources) never has the invented amount; only the staff-side decision record names it.
    shown = [
        {k: v for k, v in e.items() if k != "custom"}
        | {"custom": {k: v for k, v in (e.get("custom") or {}).items() if k != "decision"}}
        for e in events
    ]
    assert all("400,000" not in str(e) for e in shown) and "349,700원" in events[-1]["text"]
    assert "400,000원" in events[-1]["custom"]["decision"]["unsupported"]


def test_faq_answers_are_not_streamed_even_when_the_channel_could(build: Any) -> None:
    model = ScriptedChat(replies=["쓰이면 안 되는 답 [1]."])
    streams = AnswerStreams()
    [message] = run(ActionAnswerWelfare(build(model), streams), tracker("기초연금 얼마 받을 수 있어요?", metadata=STREAM))
    assert "349,700원" in message["text"] and "stream" not in message["custom"] and model.seen == []


def test_channels_that_do_not_stream_get_the_whole_generated_answer(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요 [1]."
    streams = AnswerStreams()
    [message] = run(ActionAnswerWelfare(build(ScriptedChat(replies=[reply]), faq=False), streams), tracker(AMOUNT_Q))
    assert message["text"].startswith(reply) and "stream" not in message["custom"]


def test_when_too_many_answers_stream_the_next_one_comes_whole(build: Any) -> None:
    replies = ["기초연금은 월 349,700원까지 받을 수 있어요 [1]."] * 2
    streams = AnswerStreams(max_open=1)
    action = ActionAnswerWelfare(build(ScriptedChat(replies=replies, delay_s=0.5), faq=False), streams)
    [first] = run(action, tracker(AMOUNT_Q, metadata=STREAM))
    [second] = run(action, tracker(AMOUNT_Q, metadata=STREAM))
    assert "stream" in first["custom"] and "stream" not in second["custom"]
    assert second["text"].startswith(replies[1])


def test_a_finished_stream_expires(build: Any) -> None:
    streams = AnswerStreams(keep_s=0.2)
    action = ActionAnswerWelfare(build(ScriptedChat(replies=["기초연금은 월 349,700원이에요 [1]."]), faq=False), streams)
    [placeholder] = run(action, tracker(AMOUNT_Q, metadata=STREAM))
    stream_id = placeholder["custom"]["stream"]
    log = streams.get(stream_id)
    assert log is not None and list(log.follow(10))[-1]["event"] == "final"
    time.sleep(0.3)
    assert streams.get(stream_id) is None


def test_a_stream_reader_timeout_shorter_than_the_model_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="BOKJI_STREAM_IDLE_TIMEOUT_S"):
        ActionServerSettings(stream_idle_timeout_s=10)
