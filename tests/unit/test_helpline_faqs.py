"""Questions *about* elder abuse and the women's emergency line are answered from their FAQ with the right number.

A crisis in progress gets the fixed crisis reply (tests/unit/test_crisis.py); someone who only asks where
to report gets the curated entry, its number and its source.
"""

from __future__ import annotations

import pytest

from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.rules.crisis import detect_crisis
from knowledge.settings import RetrievalSettings

NEIGHBOURS = {
    "elder-abuse-report",
    "contact-1366",
    "child-abuse-report",
    "domestic-violence-help",
    "neighbor-crisis-report",
    "contact-112",
    "contact-109",
    "contact-129",
}


@pytest.fixture(scope="module")
def contacts(
    tmp_path_factory: pytest.TempPathFactory, analyzer: KiwiAnalyzer, embeddings: E5Embeddings, seed_entries: list[FaqEntry]
) -> KnowledgeService:
    store = SqliteStore(tmp_path_factory.mktemp("contacts") / "store.sqlite3", analyzer, model_id=index_id(embeddings), dim=384)
    # With the neighbours a weak ranker would pick instead (112, 109, 129, child abuse, domestic violence).
    entries = [e for e in seed_entries if e.id in NEIGHBOURS]
    assert len(entries) == len(NEIGHBOURS)
    ingest_faqs(store, embeddings, entries)
    return KnowledgeService(store, embeddings, RetrievalSettings(), load_helplines())


@pytest.mark.parametrize(
    ("question", "number", "ministry"),
    [
        ("노인학대 신고는 어디에 해요?", "1577-1389", "보건복지부"),
        ("요양원에서 노인학대가 의심되면 어디 신고하나요", "1577-1389", "보건복지부"),
        ("1366은 어떤 곳이에요?", "1366", "성평등가족부"),
        ("스토킹 상담은 어디서 받을 수 있어요?", "1366", "성평등가족부"),
    ],
)
def test_a_question_about_a_helpline_gets_its_number_and_source(
    contacts: KnowledgeService, question: str, number: str, ministry: str
) -> None:
    assert detect_crisis(question) is None  # a question, not an emergency in progress
    answer = contacts.answer(question)
    assert answer.mode in ("faq", "extractive")  # the curated entry, or sentences quoted from it
    assert number in answer.text
    assert any(number in s.title and ministry in s.title for s in answer.sources)


def test_the_1366_line_names_the_renamed_ministry() -> None:
    # 여성가족부 became 성평등가족부 on 2025-10-01; the crisis reply's source must not name a ministry that is gone.
    line = load_helplines()["women_emergency"]
    assert line.number == "1366" and line.source.title.startswith("성평등가족부")
