"""Chat noise (emoji, "ㅠㅠ", "저기요", "???", run-together words) never moves a question off its curated answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerWelfare
from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer, query_form
from knowledge.korean.text import denoise, normalize
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import LlmSettings, RetrievalSettings
from tests.unit.fakes import ScriptedChat

# The three everyday questions of issue 15 that went to the model (and its 15 s deadline) instead of the FAQ.
ISSUE_QUESTIONS = {
    "네식구 생계급여 최대 얼마 받을수있어요": "livelihood-benefit-max-4person",
    "교육급여는중위소득몇프로까지받을수있나요": "education-benefit-criteria",
    "기초연금😢 얼마나 받을 수 있나요??": "basic-pension-increase",
}
NEIGHBOURS = {
    "livelihood-benefit-criteria", "livelihood-benefit-max-1person", "livelihood-benefit-calculation",
    "basic-pension-amount", "basic-pension-eligibility", "median-income-4person", "housing-benefit-criteria",
}  # fmt: skip


@pytest.mark.parametrize(
    ("noisy", "clean"),
    [
        ("기초연금😢 얼마나 받을 수 있나요??", "기초연금 얼마나 받을 수 있나요?"),
        ("저기요 기초연금 얼마나 받을 수 있나요 ㅠㅠ", "기초연금 얼마나 받을 수 있나요"),
        ("근데 아동수당 얼마예요ㅋㅋㅋ", "아동수당 얼마예요"),
        ("음... 주거급여 신청 어디서 해요?!?", "주거급여 신청 어디서 해요?"),
        ("👍🏻 긴급복지 받을 수 있나요 ㅜ.ㅜ 감사합니다", "긴급복지 받을 수 있나요"),
        ("부모급여 얼마예요 ^^;;", "부모급여 얼마예요"),
    ],
)
def test_chat_noise_is_dropped(noisy: str, clean: str) -> None:
    assert denoise(normalize(noisy)) == clean


@pytest.mark.parametrize(
    "kept",
    ["어린이집 보육료 지원돼요?", "저소득층 지원", "3~5세 누리과정 지원", "중위소득 50% 이하", "아동수당", "ㅋㅋㅋ"],
)
def test_words_that_look_like_noise_are_kept(kept: str) -> None:
    assert denoise(normalize(kept)) == normalize(kept)


def test_run_together_questions_are_respaced_and_chat_percent_is_read(analyzer: KiwiAnalyzer) -> None:
    assert query_form(analyzer, "네식구 생계급여 최대 얼마 받을수있어요") == "네 식구 생계급여 최대 얼마 받을 수 있어요"
    assert query_form(analyzer, "교육급여는중위소득몇프로까지받을수있나요") == "교육급여는 중위소득 몇 퍼센트까지 받을 수 있나요"
    # Compounds stay whole and a well-spaced question comes back as it was.
    assert query_form(analyzer, "4인가구 기준중위소득 얼마") == "4인가구 기준중위소득 얼마"
    assert query_form(analyzer, "기초연금 수급자격이 어떻게 되나요?") == "기초연금 수급자격이 어떻게 되나요?"


@pytest.fixture
def noisy_service(
    tmp_path: Path, analyzer: KiwiAnalyzer, embeddings: E5Embeddings, seed_entries: list[FaqEntry]
) -> tuple[KnowledgeService, ScriptedChat]:
    store = SqliteStore(tmp_path / "store.sqlite3", analyzer, model_id=index_id(embeddings), dim=384)
    wanted = set(ISSUE_QUESTIONS.values()) | NEIGHBOURS
    ingest_faqs(store, embeddings, [e for e in seed_entries if e.id in wanted])
    model = ScriptedChat(replies=["모델이 쓴 답이에요."] * 5, seen=[])
    service = KnowledgeService(
        store, embeddings, RetrievalSettings(), load_helplines(), llm=model, llm_settings=LlmSettings(), analyzer=analyzer
    )
    return service, model


@pytest.mark.parametrize("question", list(ISSUE_QUESTIONS))
def test_the_issue_questions_get_the_curated_answer_not_the_model(
    noisy_service: tuple[KnowledgeService, ScriptedChat], question: str
) -> None:
    service, model = noisy_service
    dispatcher = CollectingDispatcher()
    t = Tracker(
        "web:n", {}, {"text": question, "intent": {"name": "ask_welfare"}, "entities": []}, [], False, None, {}, "action_listen"
    )
    asyncio.run(ActionAnswerWelfare(service).run(dispatcher, t, {}))
    [message] = dispatcher.messages
    custom = message["custom"]
    assert custom["mode"] == "faq"
    assert custom["doc_id"] == ISSUE_QUESTIONS[question]
    assert custom["decision"]["reason"] == "confident_faq"
    assert model.seen == []  # the model was never asked
