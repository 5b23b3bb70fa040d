from datetime import date

import pytest

from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry


def test_amount_question_gets_the_curated_answer_with_source(service: KnowledgeService) -> None:
    answer = service.answer("기초연금 얼마 받을 수 있어요?")
    assert answer.mode == "faq"
    assert "349,700원" in answer.text
    assert answer.doc_id == "basic-pension-amount"
    assert answer.sources[0].url.startswith("https://") and answer.sources[0].updated_at.startswith("2026")


def test_noisy_informal_question_still_matches(service: KnowledgeService) -> None:
    answer = service.answer("기초연금은 누가받을수있어여?")
    assert answer.mode == "faq" and answer.doc_id == "basic-pension-eligibility"


def test_unrelated_question_is_answered_honestly_with_a_way_forward(service: KnowledgeService) -> None:
    answer = service.answer("화성 이주 지원금은 언제 나오나요")
    assert answer.mode == "none"
    assert "확인할 수 없었어요" in answer.text and "129" in answer.text
    assert answer.sources and "129" in answer.sources[0].title


def test_a_year_the_entry_does_not_cover_is_not_answered_with_2026_figures(service: KnowledgeService) -> None:
    assert service.answer("2030년 기초연금은 얼마예요?").mode == "none"


def test_needs_review_entries_carry_a_caveat(service: KnowledgeService, subset_entries: list[FaqEntry]) -> None:
    answer = service.answer("부모급여 0세 얼마 받아요?")
    assert answer.doc_id == "parental-benefit-amount"
    # The curated text itself says "확인" more than once: the caveat is a note after it, not a word in it.
    curated = next(e.answer for e in subset_entries if e.id == "parental-benefit-amount")
    caveat = answer.text.removeprefix(curated).strip()
    assert answer.text.startswith(curated) and caveat.startswith("※") and "다시 확인" in caveat
    assert "※" not in service.answer("기초연금 얼마 받을 수 있어요?").text  # a confirmed entry has no caveat


def test_empty_question_is_not_found(service: KnowledgeService) -> None:
    assert service.answer("   ").mode == "none"


def test_expired_knowledge_is_not_used(service: KnowledgeService) -> None:
    answer = service.answer("기초연금 얼마 받을 수 있어요?", on_date=date(2027, 6, 1))
    assert answer.doc_id != "basic-pension-amount"


def test_the_scope_rules_share_the_service_kiwi_instead_of_loading_a_second_one(
    service: KnowledgeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second Kiwi costs ~380 MiB per process: the scope rules must use the one the policy holds."""
    from knowledge.rules import scope

    def second_kiwi(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scope rules loaded their own Kiwi")

    monkeypatch.setattr(scope, "_analyzer", None)
    monkeypatch.setattr(scope, "make_analyzer", second_kiwi)
    assert service.answer("독일 아동수당은 얼마예요?").mode == "none"
    assert service.answer("제 기초연금 신청 지금 어디까지 처리됐어요?").mode == "none"
    assert service.answer("기초연금 얼마 받을 수 있어요?").mode == "faq"
