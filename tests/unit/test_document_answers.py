"""Every answer mode on an ingested long document next to seed FAQs, and the decision record each answer carries.

The document is about a program the seed lacks (예시시 청년 마음건강 바우처), with headings and page numbers,
ingested with :func:`knowledge.ingestion.ingest.ingest` like `bokji ingest` does.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel

from knowledge.answering.policy import AnswerPolicy
from knowledge.answering.service import KnowledgeService
from knowledge.domain.document import DocumentChunk, LongDocument, Section
from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import Hit
from knowledge.domain.source import SourceRef
from knowledge.ingestion.ingest import index_id, ingest
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import LlmSettings, RetrievalSettings
from tests.unit.fakes import ScriptedChat

DOC_SOURCE = "예시시 청년 마음건강 바우처 안내 (예시시 보건소, 2026)"
DOCUMENT = LongDocument(
    id="yesi-youth-mind-voucher",
    title="예시시 청년 마음건강 바우처 안내",
    source=SourceRef(title=DOC_SOURCE, url="https://www.yesi.go.kr/health/mind"),
    updated_at=date(2026, 11, 1),
    tenant="yesi",
    sections=(
        Section(text="예시시 청년 마음건강 바우처 안내", level=1, page=1),
        Section(text="1. 사업 개요", level=2, page=1),
        Section(
            text="예시시 청년 마음건강 바우처는 우울감이나 불안을 겪는 청년에게 전문 심리상담 서비스를 지원하는 예시시 자체 사업입니다.",
            page=1,
        ),
        Section(text="2. 지원 대상", level=2, page=2),
        Section(text="예시시에 주민등록을 둔 만 19세부터 34세까지의 청년이 지원 대상입니다. 소득 기준은 없습니다.", page=2),
        Section(text="3. 지원 내용", level=2, page=3),
        Section(text="1회 50분 심리상담을 총 8회까지 받을 수 있으며, 본인부담금은 회당 5,000원입니다.", page=3),
        Section(text="4. 신청 방법", level=2, page=4),
        Section(text="예시시 보건소 정신건강복지센터를 방문하거나 예시시 누리집에서 온라인으로 신청할 수 있습니다.", page=4),
    ),
)
COPAY_Q = "예시시 청년 마음건강 바우처 본인부담금은 얼마예요?"
COPAY_SENTENCE = "본인부담금은 회당 5,000원입니다"
GROUNDED = "예시시 청년 마음건강 바우처의 본인부담금은 회당 5,000원이에요 [1]. 심리상담은 총 8회까지 받을 수 있어요 [1]."


@pytest.fixture(scope="module")
def doc_store(
    tmp_path_factory: pytest.TempPathFactory, analyzer: KiwiAnalyzer, embeddings: E5Embeddings, subset_entries: list[FaqEntry]
) -> SqliteStore:
    """Seed FAQs and the document in one store, written once for the module."""
    path: Path = tmp_path_factory.mktemp("documents") / "store.sqlite3"
    store = SqliteStore(path, analyzer, model_id=index_id(embeddings), dim=384)
    report = ingest(store, embeddings, subset_entries, [DOCUMENT])
    assert report.added == len(subset_entries) + 1
    return store


@pytest.fixture
def answer_with(doc_store: SqliteStore, embeddings: E5Embeddings, analyzer: KiwiAnalyzer) -> Any:
    def _service(llm: BaseChatModel | None, *, quote_bar: float | None = None) -> KnowledgeService:
        # quote_bar=1.0: no hit is ever close enough to be quoted as is, so every relevant question goes to the model.
        retrieval = RetrievalSettings() if quote_bar is None else RetrievalSettings(faq_min_dense=quote_bar)
        return KnowledgeService(
            doc_store, embeddings, retrieval, load_helplines(), llm=llm, llm_settings=LlmSettings(), analyzer=analyzer
        )

    return _service


def test_without_a_model_a_document_question_gets_the_passage_with_its_page_and_heading(answer_with: Any) -> None:
    answer = answer_with(None).answer(COPAY_Q)
    assert answer.mode == "extractive" and answer.doc_id == DOCUMENT.id
    assert COPAY_SENTENCE in answer.text
    source = answer.sources[0]
    assert source.title == DOC_SOURCE and source.updated_at == "2026-11-01"
    assert (source.page, source.heading) == (3, "3. 지원 내용") and source.location == "3쪽 · 3. 지원 내용"
    assert answer.decision is not None and answer.decision.model_skipped == "no_model"


def test_a_document_question_below_the_faq_bars_is_answered_from_its_passage(answer_with: Any) -> None:
    # A question scores lower against a passage than against an FAQ's phrasings: this one is under the
    # bar an FAQ needs before the model may compose (the document was top and the bot said "not found").
    answer = answer_with(None).answer("마음건강 바우처 소득 기준 있나요?")
    assert answer.decision is not None and answer.decision.checks["top_dense"] < RetrievalSettings().generate_min_dense
    assert answer.mode == "extractive" and "소득 기준은 없습니다" in answer.text
    assert answer.sources[0].title == DOC_SOURCE and answer.sources[0].location == "2쪽 · 2. 지원 대상"


def chunk_hit(text: str, dense: float) -> Hit:
    chunk = DocumentChunk(
        doc_id=DOCUMENT.id, title=DOCUMENT.title, heading=f"{DOCUMENT.title} > 2. 지원 대상", text=text, chunk=2, page=2,
        source=DOCUMENT.source, updated_at=DOCUMENT.updated_at,
    )  # fmt: skip
    return Hit(DOCUMENT.id, 1.0, dense, 10.0, chunk.model_dump(mode="json"))


def faq_hit(entry: FaqEntry, dense: float, score: float = 1.0) -> Hit:
    return Hit(entry.id, score, dense, 10.0, entry.model_dump(mode="json"))


def test_a_document_passage_is_held_to_its_own_bar_and_its_own_text(
    analyzer: KiwiAnalyzer, subset_entries: list[FaqEntry]
) -> None:
    settings = RetrievalSettings()
    policy = AnswerPolicy(settings, analyzer)
    question = "마음건강 바우처 소득 기준 있나요?"
    passage = "예시시 청년 마음건강 바우처: 소득 기준은 없습니다."
    between = (settings.document_min_dense + settings.generate_min_dense) / 2
    assert policy.may_compose(question, [chunk_hit(passage, between)])
    assert not policy.may_compose(question, [chunk_hit(passage, settings.document_min_dense - 0.01)])
    faq = next(e for e in subset_entries if e.id == "livelihood-benefit-criteria")
    assert not policy.may_compose(faq.question, [faq_hit(faq, between)]), "an FAQ keeps the FAQ bar"
    # The nouns must be in the document's own passage, not only in an FAQ ranked below it.
    budget = "마음건강 바우처 예산은 얼마예요?"
    neighbour = faq_hit(faq.model_copy(update={"answer": faq.answer + " 예산"}), between, score=0.5)
    assert not policy.may_compose(budget, [chunk_hit(passage, between), neighbour])
    assert policy.may_compose(budget, [chunk_hit(passage + " 올해 예산은 2억 원입니다.", between), neighbour])


def test_with_a_model_a_document_passage_close_enough_to_quote_is_quoted_without_asking_it(answer_with: Any) -> None:
    model = ScriptedChat(replies=[GROUNDED])
    answer = answer_with(model, quote_bar=0.9).answer(COPAY_Q)
    assert answer.decision is not None and answer.decision.reason == "confident_document"
    assert answer.mode == "extractive" and COPAY_SENTENCE in answer.text and answer.sources[0].page == 3
    assert model.seen == []


def test_with_a_model_a_grounded_answer_cites_the_document_with_its_page_and_heading(answer_with: Any) -> None:
    model = ScriptedChat(replies=[GROUNDED])
    answer = answer_with(model, quote_bar=1.0).answer(COPAY_Q)
    assert answer.mode == "generated" and answer.fallback == ""
    assert answer.text.startswith(GROUNDED)
    assert "회당 5,000원" in model.seen[0], "the model read the document's passage"
    source = answer.sources[0]
    assert source.title == DOC_SOURCE and source.location == "3쪽 · 3. 지원 내용"
    assert answer.doc_id == DOCUMENT.id


def test_a_stopped_model_falls_back_to_the_document_passage(answer_with: Any) -> None:
    answer = answer_with(ScriptedChat(error="connection refused"), quote_bar=1.0).answer(COPAY_Q)
    assert answer.mode == "extractive" and answer.fallback == "model_error"
    assert COPAY_SENTENCE in answer.text
    assert answer.sources[0].title == DOC_SOURCE and answer.sources[0].page == 3


def test_an_faq_question_is_still_answered_with_the_curated_text(answer_with: Any) -> None:
    model = ScriptedChat(replies=[GROUNDED])
    answer = answer_with(model).answer("기초연금 얼마 받을 수 있어요?")
    assert answer.mode == "faq" and "349,700원" in answer.text and answer.doc_id == "basic-pension-amount"
    assert answer.sources[0].page is None and answer.sources[0].location == ""
    assert model.seen == []


def test_the_decision_record_says_why_and_its_log_line_is_masked(answer_with: Any, caplog: pytest.LogCaptureFixture) -> None:
    question = f"제 번호 010-1234-5678인데 {COPAY_Q}"
    with caplog.at_level(logging.INFO, logger="knowledge.answering.chain"):
        answer = answer_with(ScriptedChat(replies=[GROUNDED]), quote_bar=1.0).answer(question)
    decision = answer.decision
    assert decision is not None and decision.mode == answer.mode == "generated"
    assert decision.reason == "relevant_passages" and decision.model and decision.model_skipped == ""
    kinds = {h.doc_id: h.kind for h in decision.hits}
    assert decision.hits[0].doc_id == DOCUMENT.id and kinds[DOCUMENT.id] == "document" and "faq" in kinds.values()
    assert decision.hits[0].title == DOCUMENT.title
    assert set(decision.thresholds) >= {"faq_min_dense", "generate_min_dense", "generate_min_coverage"}
    assert decision.checks["relevant"] is True and decision.checks["confident"] is False
    assert decision.retrieve_ms > 0 and decision.generate_ms > 0 and decision.total_ms >= decision.retrieve_ms
    assert decision.first_token_ms is not None and decision.tokens > 0
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("answer decision ")]
    logged = json.loads(line.removeprefix("answer decision "))
    assert logged["mode"] == "generated" and logged["hits"][0]["kind"] == "document"
    assert "010-1234-5678" not in line and "5678" not in line and "[전화번호]" in logged["question"]
