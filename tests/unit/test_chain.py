"""The answer chain with a scripted chat model: modes, grounding fallbacks, deadlines, masking, follow-ups."""

from __future__ import annotations

import time
from typing import Any

import pytest

from knowledge.answering.chain import history_from_events, is_follow_up, rule_rewrite
from knowledge.answering.service import KnowledgeService
from tests.unit.fakes import ScriptedChat

AMOUNT_Q = "기초연금 최대 얼마까지 받을 수 있어요?"


def test_confident_faq_is_answered_as_written_without_asking_the_model(build: Any) -> None:
    model = ScriptedChat(replies=["쓰이면 안 되는 답 [1]."])
    service = build(model)
    answer = service.answer("기초연금 얼마 받을 수 있어요?")
    assert answer.mode == "faq" and "349,700원" in answer.text
    assert model.seen == []


def test_relevant_passages_without_a_confident_faq_get_a_generated_answer_citing_them(build: Any) -> None:
    service = build(ScriptedChat(replies=["2026년 기초연금은 월 349,700원까지 받을 수 있어요 [1]. 신청 전에 확인해 보세요."]), faq=False)
    answer = service.answer(AMOUNT_Q)
    assert answer.mode == "generated" and answer.fallback == ""
    assert answer.text.startswith("2026년 기초연금은 월 349,700원까지 받을 수 있어요 [1].")
    assert answer.doc_id == "basic-pension-amount"
    assert "기초연금" in answer.sources[0].title and "129" in answer.sources[-1].title


def test_an_invented_amount_never_reaches_the_citizen(build: Any) -> None:
    service = build(ScriptedChat(replies=["기초연금은 월 400,000원이에요 [1]."]), faq=False)
    answer, trace = service.chain.invoke(AMOUNT_Q)
    assert answer.mode == "extractive" and answer.fallback == "ungrounded"
    assert "400,000" not in answer.text and "349,700원" in answer.text
    assert "400,000원" in trace.unsupported and trace.model and trace.mode == "extractive"


def test_an_uncited_copy_of_a_passage_is_attributed_and_shown(build: Any) -> None:
    service = build(ScriptedChat(replies=["2026년 기초연금 기준연금액은 월 349,700원이에요."]), faq=False)
    answer = service.answer(AMOUNT_Q)
    assert answer.fallback == "" and answer.text.startswith("2026년 기초연금 기준연금액은 월 349,700원이에요 [1].")


def test_a_citation_to_a_passage_that_was_not_given_falls_back(build: Any) -> None:
    service = build(ScriptedChat(replies=["기초연금은 월 349,700원이에요 [7]."]), faq=False)
    assert service.answer(AMOUNT_Q).fallback == "ungrounded"


def test_a_late_model_is_cut_off_at_the_deadline_with_the_extractive_answer(build: Any) -> None:
    service = build(ScriptedChat(replies=["기초연금은 월 349,700원이에요 [1]."], delay_s=3.0), faq=False, timeout_s=0.5)
    start = time.perf_counter()
    answer = service.answer(AMOUNT_Q)
    assert time.perf_counter() - start < 2.0
    assert answer.fallback == "timeout" and "349,700원" in answer.text and answer.sources


def test_a_stopped_model_still_gives_faq_and_extractive_answers(build: Any) -> None:
    service = build(ScriptedChat(error="connection refused"), faq=False)
    answer = service.answer(AMOUNT_Q)
    assert answer.mode == "extractive" and answer.fallback == "model_error" and "349,700원" in answer.text


def test_a_stopped_model_does_not_slow_down_faq_answers(build: Any) -> None:
    # A server that is down but takes 5 s to say so: any call to it on the FAQ path would show in the time.
    service = build(ScriptedChat(error="connection refused", delay_s=5.0))
    start = time.perf_counter()
    assert service.answer("기초연금 얼마 받을 수 있어요?").mode == "faq"
    assert time.perf_counter() - start < 1.0


def test_unrelated_questions_are_declined_without_the_model(build: Any) -> None:
    model = ScriptedChat(replies=["화성 이주 지원금은 월 349,700원이에요 [1]."])
    service = build(model, faq=False)
    answer = service.answer("화성 이주 지원금은 언제 나오나요")
    assert answer.mode == "none" and "확인할 수 없었어요" in answer.text
    assert model.seen == []


@pytest.mark.parametrize(
    "question",
    # Each one's passages are close enough to compose from (dense and noun coverage above the bars): only the
    # scope rule (another year, another country's system, a personal record) declines it.
    ["2030년 기초연금은 얼마가 되나요?", "독일 아동수당 금액은 얼마예요?", "제 기초연금 신청 건 지금 어디까지 처리됐어요?"],
)
def test_out_of_scope_questions_are_declined_even_when_passages_look_close(build: Any, question: str) -> None:
    model = ScriptedChat(replies=["기초연금은 월 349,700원이에요 [1]."])
    assert build(model, faq=False).answer(question).mode == "none"
    assert model.seen == []


def test_personal_data_is_masked_before_the_model_sees_it(build: Any) -> None:
    model = ScriptedChat(replies=["기초연금은 월 349,700원이에요 [1]."])
    build(model, faq=False).answer("제 번호 010-1234-5678이고 메일 kim@example.com인데 기초연금 최대 얼마 받아요?")
    assert model.seen and "010-1234-5678" not in model.seen[0] and "kim@example.com" not in model.seen[0]
    assert "[전화번호]" in model.seen[0]


def test_streaming_shows_checked_sentences_then_resets_on_a_bad_number(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요 [1]. 내년에는 월 400,000원이 돼요 [1]."
    service = build(ScriptedChat(replies=[reply]), faq=False)
    events = list(service.stream(AMOUNT_Q))
    kinds = [e.kind for e in events]
    assert kinds == ["generating", "delta", "reset", "final"]
    assert "349,700원" in events[1].text and "400,000" not in events[1].text
    final = events[-1].answer
    assert final is not None and final.fallback == "ungrounded" and "400,000" not in final.text


def test_streaming_a_good_answer_ends_with_the_final_answer(build: Any) -> None:
    service = build(ScriptedChat(replies=["기초연금은 월 349,700원까지예요 [1]. 주민센터에서 확인하세요."]), faq=False)
    events = list(service.stream(AMOUNT_Q))
    assert [e.kind for e in events][-1] == "final" and all(e.kind != "reset" for e in events)
    assert "".join(e.text for e in events if e.kind == "delta").startswith("기초연금은 월 349,700원까지예요 [1].")


def test_with_one_passage_an_uncited_sentence_is_shown_as_soon_as_its_number_checks_out(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요. 소득에 따라 줄어들 수 있어요. 주민센터에서 신청하세요."
    service = build(ScriptedChat(replies=[reply]), faq=False, passages=1)
    events = list(service.stream(AMOUNT_Q))
    deltas = [e.text for e in events if e.kind == "delta"]
    # The first sentence goes out on its own, while the model is still writing, not with the whole answer at the end.
    assert deltas[0].strip() == "기초연금은 월 349,700원까지 받을 수 있어요." and all(e.kind != "reset" for e in events)
    final = events[-1].answer
    assert final is not None and final.fallback == "" and "349,700원까지 받을 수 있어요 [1]." in final.text


def test_with_one_passage_an_uncited_invented_number_is_never_shown(build: Any) -> None:
    service = build(ScriptedChat(replies=["기초연금은 월 400,000원이에요. 주민센터에서 신청하세요."]), faq=False, passages=1)
    events = list(service.stream(AMOUNT_Q))
    assert not any("400,000" in e.text for e in events if e.kind == "delta")
    final = events[-1].answer
    assert final is not None and final.fallback == "ungrounded" and "400,000" not in final.text


def test_with_two_passages_an_uncited_number_waits_for_the_end(build: Any) -> None:
    reply = "기초연금은 월 349,700원까지 받을 수 있어요. 소득에 따라 줄어들 수 있어요. 주민센터에서 신청하세요."
    service = build(ScriptedChat(replies=[reply]), faq=False, passages=2)
    events = list(service.stream(AMOUNT_Q))
    deltas = [e.text for e in events if e.kind == "delta"]
    assert len(deltas) == 1 and deltas[0].startswith("기초연금은 월 349,700원까지 받을 수 있어요 [1].")


def test_a_follow_up_is_rewritten_by_the_model_before_retrieval(build: Any) -> None:
    model = ScriptedChat(replies=["기초연금은 어디서 신청하나요?"])
    service = build(model, rewrite="llm")
    history = [("user", "기초연금 얼마 받을 수 있어요?"), ("bot", "월 349,700원이에요.")]
    answer, trace = service.chain.invoke("그거 어디서 신청해요?", history=history)
    assert trace.rewritten_by == "llm" and trace.standalone == "기초연금은 어디서 신청하나요?"
    assert answer.doc_id == "basic-pension-apply"


def test_a_rewrite_that_adds_numbers_is_replaced_by_the_rules(build: Any) -> None:
    service = build(ScriptedChat(replies=["349,700원 기초연금은 어디서 신청하나요?"]), rewrite="llm")
    history = [("user", "기초연금 얼마 받을 수 있어요?"), ("bot", "월 349,700원이에요.")]
    answer, trace = service.chain.invoke("그거 어디서 신청해요?", history=history)
    assert trace.rewritten_by == "rules" and trace.standalone == "기초연금 어디서 신청해요?"
    assert answer.doc_id == "basic-pension-apply"


def test_by_default_follow_ups_are_rewritten_by_rules_without_asking_the_model(build: Any) -> None:
    model = ScriptedChat(replies=["쓰이면 안 되는 질문"])
    answer, trace = build(model).chain.invoke("그거 어디서 신청해요?", history=[("user", "기초연금 얼마예요?")])
    assert trace.rewritten_by == "rules" and answer.doc_id == "basic-pension-apply" and model.seen == []


def test_without_a_model_follow_ups_use_the_rules(service: KnowledgeService) -> None:
    answer = service.answer("그거 어디서 신청해요?", history=[("user", "기초연금 얼마예요?")])
    assert answer.doc_id == "basic-pension-apply"


def test_follow_up_helpers() -> None:
    topics = ["기초연금", "아동수당"]
    assert is_follow_up("그거 어디서 신청해요?", topics)
    assert not is_follow_up("아동수당 그거 어디서 신청해요?", topics)
    assert rule_rewrite("거기 서류는요?", [("user", "아동수당 얼마예요?"), ("bot", "기초연금 말고요")], topics) == "아동수당 서류는요?"
    assert rule_rewrite("그거요?", [("bot", "기초연금")], topics) is None
    # The program the dialogue remembers (synonyms resolved by NLU) comes before words in earlier turns.
    assert rule_rewrite("그거 어디서 해요?", [("user", "아동수당 얼마예요?")], topics, "기초연금") == "기초연금 어디서 해요?"


def test_history_comes_from_user_and_bot_events_without_the_latest_message() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "기초연금 얼마예요?"},
        {"event": "bot", "text": "월 349,700원이에요."},
        {"event": "user", "text": "그거 어디서 신청해요?"},
    ]
    assert history_from_events(events) == [("user", "기초연금 얼마예요?"), ("bot", "월 349,700원이에요.")]
