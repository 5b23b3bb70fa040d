"""Okt (konlpy on Java) as the analyzer: noisy questions keep their key nouns and still find the right FAQ.

Nothing here skips: `make setup` installs Java and konlpy, so a missing install fails the run. The JVM starts
once per pytest process (about 2 s) and the Okt store is built once for the module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.backends import build_service
from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import SearchFilter
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.korean.analyzer import Morpheme, OktAnalyzer, make_analyzer, query_terms
from knowledge.retrieval.embeddings import E5Embeddings, as_vector
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import ProcessSettings

WHERE = SearchFilter(tenants=("national", "yesi"))
NOISY = ["기초연금받을수있나요", "울엄마 66살인데 기초연금 받을수있음?"]
# Neighbours that share words ("기초연금", "급여", "기준"): only the right terms rank the right one first.
QUESTIONS = [
    ("울엄마 66살인데 기초연금 받을수있음?", "basic-pension-eligibility"),
    ("기초연금 최대 금액", "basic-pension-amount"),
    ("기초연금 어디서 신청", "basic-pension-apply"),
    ("네 식구 중위소득", "median-income-4person"),
    ("육아휴직급여 얼마", "parental-benefit-amount"),
    ("생계급여 받을수있나", "livelihood-benefit-criteria"),
]


@pytest.fixture(scope="module")
def okt() -> OktAnalyzer:
    analyzer = make_analyzer("okt")
    assert isinstance(analyzer, OktAnalyzer)
    return analyzer


@pytest.fixture(scope="module")
def okt_store(
    tmp_path_factory: pytest.TempPathFactory, okt: OktAnalyzer, embeddings: E5Embeddings, subset_entries: list[FaqEntry]
) -> SqliteStore:
    store = SqliteStore(tmp_path_factory.mktemp("okt") / "store.sqlite3", okt, index_id(embeddings), 384)
    ingest_faqs(store, embeddings, subset_entries)
    return store


@pytest.mark.parametrize("question", NOISY)
def test_okt_keeps_the_program_name_whole_in_unspaced_questions(okt: OktAnalyzer, question: str) -> None:
    morphemes = okt.morphemes(question)
    # Plain Okt splits it into 기초 + 연금; the welfare dictionary keeps the program name one noun.
    assert "기초연금" in [m.form for m in morphemes]
    assert all(question[m.start : m.end] == m.form for m in morphemes)


def test_okt_query_keeps_the_age_and_drops_who_is_asking(okt: OktAnalyzer) -> None:
    terms = query_terms(okt, "울엄마 66살인데 기초연금 받을수있음?")
    assert {"기초연금", "66살"} <= set(terms)
    assert "엄마" not in terms


def test_okt_survives_invisible_and_control_characters(okt: OktAnalyzer) -> None:
    text = "\u200b\x00ㅋㅋㅋㅋ 기초연금!!!! 😀 주거급여"
    morphemes = okt.morphemes(text)
    assert {"기초연금", "주거급여"} <= {m.form for m in morphemes}
    assert all(text[m.start : m.end] == m.form for m in morphemes)


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_okt_search_finds_the_right_faq(okt_store: SqliteStore, embeddings: E5Embeddings, question: str, expected: str) -> None:
    # Keyword search alone (alpha=0) ranks only by Okt's terms; the hybrid search is what citizens get.
    keyword = okt_store.search(question, np.zeros(384, dtype=np.float32), alpha=0.0, k=1, where=WHERE)
    hybrid = okt_store.search(question, as_vector(embeddings, question), k=1, where=WHERE)
    assert [h.doc_id for h in keyword] == [expected]
    assert [h.doc_id for h in hybrid] == [expected]


def test_analyzer_setting_okt_builds_a_service_that_searches_with_okt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embeddings: E5Embeddings, subset_entries: list[FaqEntry]
) -> None:
    monkeypatch.setenv("BOKJI_KNOWLEDGE__ANALYZER", "okt")
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__PATH", str(tmp_path / "kb.sqlite3"))
    monkeypatch.setenv("BOKJI_KNOWLEDGE__LLM__BACKEND", "none")
    analyzed: list[str] = []
    okt_morphemes = OktAnalyzer.morphemes

    def spy(self: OktAnalyzer, text: str, *, correct_typos: bool = False) -> list[Morpheme]:
        analyzed.append(text)
        return okt_morphemes(self, text, correct_typos=correct_typos)

    monkeypatch.setattr(OktAnalyzer, "morphemes", spy)
    service = build_service(ProcessSettings().knowledge)
    ingest_faqs(service.store, embeddings, [e for e in subset_entries if e.id.startswith("basic-pension")])
    assert analyzed, "ingestion did not index with Okt"
    analyzed.clear()
    assert service.search("울엄마 66살인데 기초연금 받을수있음?")[0].doc_id == "basic-pension-eligibility"
    assert any("기초연금" in text for text in analyzed), "the question was not analyzed with Okt"
