"""The mixed load benchmark's scripted conversations, reply judging and per-kind figures (bench/load_scenarios.py)."""

from __future__ import annotations

import random
from collections import Counter

from bench.load_scenarios import (
    FORMS,
    KINDS,
    MODEL_QUESTIONS,
    Record,
    Turn,
    aggregate,
    conversation,
    faq_questions,
    growth,
    judge,
)


def draw(seed: int, count: int) -> list[list[Turn]]:
    rng, faqs = random.Random(seed), faq_questions()
    return [conversation(rng, faqs) for _ in range(count)]


def test_the_same_seed_gives_the_same_conversations_and_another_seed_others() -> None:
    assert draw(14, 50) == draw(14, 50)
    assert draw(14, 50) != draw(15, 50)


def test_the_mix_has_every_kind_with_model_questions_rare() -> None:
    kinds = Counter(turn.kind for conv in draw(1, 2000) for turn in conv)
    assert set(kinds) == set(KINDS)
    conversations = draw(1, 2000)
    model = sum(1 for conv in conversations if conv[0].kind == "model")
    assert 40 < model < 200, "about 5% of conversations ask the model"


def test_a_form_is_three_turns_ending_in_a_checked_verdict_and_a_follow_up_comes_after_its_question() -> None:
    conversations = draw(2, 300)
    forms = [c for c in conversations if c[0].kind == "form"]
    assert forms and all(len(c) == 3 and all(t.expect for t in c) for c in forms)
    assert {c[-1].expect for c in forms} == {f[-1][1] for f in FORMS}
    followups = [c for c in conversations if any(t.kind == "followup" for t in c)]
    assert followups and all([t.kind for t in c] == ["faq", "followup"] for c in followups)
    assert all(c[0].text in MODEL_QUESTIONS for c in conversations if c[0].kind == "model")


def test_judge_names_what_a_citizen_would_notice() -> None:
    verdict = Turn("form", "월 이백", "받으실 가능성이 있어요")
    assert judge(verdict, 200, "[모의 계산] 주거급여: 받으실 가능성이 있어요") is None
    assert judge(verdict, 200, "[모의 계산] 주거급여: 받기 어려워요") == "wrong form verdict"
    assert judge(Turn("followup", "그거 어디서 신청해요?", "신청"), 200, "잘 모르겠어요") == "wrong reply"
    assert judge(Turn("faq", "기초연금 얼마에요"), 503, "") == "http 503"
    assert judge(Turn("faq", "기초연금 얼마에요"), 200, "  ") == "empty"
    degraded = "죄송해요. 지금 답변 시스템에 잠시 문제가 있어 답을 드리지 못했어요."
    assert judge(Turn("model", "범죄 신고는 몇 번이에요?"), 200, degraded) == "degraded"


def test_aggregate_splits_latency_and_errors_by_kind() -> None:
    records = [Record("faq", s / 1000) for s in range(1, 101)] + [
        Record("form", 2.0, "wrong form verdict"),
        Record("form", 1.0),
        Record("model", 9.0, "http 503"),
    ]
    out = aggregate(records, wall_s=10.0)
    faq = out["by_kind"]["faq"]
    assert faq["n"] == 100 and faq["p50_ms"] == 51.0 and faq["p99_ms"] == 100.0 and faq["errors"] == 0
    assert faq["turns_per_s"] == 10.0
    assert out["by_kind"]["form"]["error_reasons"] == {"wrong form verdict": 1}
    assert out["by_kind"]["followup"] == {"n": 0, "turns_per_s": 0.0, "errors": 0, "error_reasons": {}}
    assert out["all"]["n"] == 103 and out["all"]["errors"] == 2 and out["all"]["max_ms"] == 9000.0


def test_growth_flags_processes_over_ten_percent_and_ones_that_died() -> None:
    out = growth({"web": 100.0, "rasa": 1600.0, "actions": 2400.0, "redis": 9.0}, {"web": 111.0, "rasa": 1700.0, "redis": 0.0})
    assert out["processes"]["web"]["growth_pct"] == 11.0
    assert out["processes"]["rasa"]["growth_pct"] == 6.2
    assert out["over_10_pct"] == ["web", "actions", "redis"], "actions has no end figure and redis 0 MiB: both died"


def test_a_model_not_started_for_the_budget_is_not_counted_as_cut_at_it() -> None:
    from bench.load import decision_summary

    records = [
        {"mode": "faq", "fallback": ""},
        {"mode": "extractive", "fallback": "over_budget", "model_skipped": ""},  # ran, cancelled: CPU thrown away
        {"mode": "extractive", "fallback": "over_budget", "model_skipped": "slower_than_budget"},  # never started
        {"mode": "extractive", "fallback": "timeout", "model_skipped": ""},
    ]
    summary = decision_summary(records)
    assert (summary["cut_at_answer_budget"], summary["model_not_started_for_budget"]) == (1, 1)
    assert summary["waited_on_model_deadline"] == 1
