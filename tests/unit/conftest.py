"""Fixtures for the fast tier: real analyzer, real embedding model, a small store on tmp disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from langchain_core.language_models import BaseChatModel

from channels.app import create_app
from channels.settings import AppSettings
from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.ingestion.seed_files import load_faq_dir, load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer, load_user_dict
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import KnowledgeSettings, LlmSettings, RetrievalSettings
from tests.citizen_support import TEST_API_KEYS, SessionHoldingClient
from tests.unit.fakes import RecordingPublisher
from tests.unit.ollama_fake import FakeOllama

# A slice of the real seed corpus: neighbours that a weak ranker would confuse.
SUBSET = {
    "basic-pension-amount",
    "basic-pension-eligibility",
    "basic-pension-apply",
    "basic-pension-vs-national-pension",
    "median-income-4person",
    "livelihood-benefit-criteria",
    "child-allowance-amount",
    "parental-benefit-amount",
    "emergency-welfare-criteria",
    "contact-129",
}


@pytest.fixture(autouse=True)
def _citizen_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps here know the test integration's API key, and their test clients hold the tokens of the sessions they name.

    Tests of the tokens and keys themselves send explicit headers or use a plain ``FlaskClient(app)``
    (tests/citizen_support.py).
    """
    monkeypatch.setenv("BOKJI_API_KEYS", TEST_API_KEYS)
    monkeypatch.setattr(Flask, "test_client_class", SessionHoldingClient)


@pytest.fixture(scope="session")
def seed_entries() -> list[FaqEntry]:
    return load_faq_dir(KnowledgeSettings().seed_dir)


@pytest.fixture(scope="session")
def subset_entries(seed_entries: list[FaqEntry]) -> list[FaqEntry]:
    entries = [e for e in seed_entries if e.id in SUBSET]
    assert len(entries) == len(SUBSET)
    return entries


@pytest.fixture(scope="session")
def analyzer() -> KiwiAnalyzer:
    return KiwiAnalyzer(load_user_dict())


@pytest.fixture(scope="session")
def embeddings() -> E5Embeddings:
    return E5Embeddings()


@pytest.fixture
def store(tmp_path: Path, analyzer: KiwiAnalyzer, embeddings: E5Embeddings) -> SqliteStore:
    return SqliteStore(tmp_path / "store.sqlite3", analyzer, model_id=index_id(embeddings), dim=384)


@pytest.fixture
def service(store: SqliteStore, embeddings: E5Embeddings, subset_entries: list[FaqEntry]) -> KnowledgeService:
    ingest_faqs(store, embeddings, subset_entries)
    return KnowledgeService(store, embeddings, RetrievalSettings(), load_helplines())


def make_service(
    store: SqliteStore,
    embeddings: E5Embeddings,
    analyzer: KiwiAnalyzer,
    entries: list[FaqEntry],
    llm: BaseChatModel | None,
    *,
    faq: bool = True,
    **llm_settings: Any,
) -> KnowledgeService:
    ingest_faqs(store, embeddings, entries)
    # faq=False: no FAQ is ever confident, so every relevant question goes to the model.
    retrieval = RetrievalSettings() if faq else RetrievalSettings(faq_min_dense=1.0)
    return KnowledgeService(
        store, embeddings, retrieval, load_helplines(), llm=llm, llm_settings=LlmSettings(**llm_settings), analyzer=analyzer
    )


@pytest.fixture
def build(
    store: SqliteStore, embeddings: E5Embeddings, analyzer: KiwiAnalyzer, subset_entries: list[FaqEntry]
) -> Any:
    def _build(llm: BaseChatModel | None, **kwargs: Any) -> KnowledgeService:
        return make_service(store, embeddings, analyzer, subset_entries, llm, **kwargs)

    return _build


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    fake = FakeOllama()
    fake.start()
    yield fake
    fake.close()


@pytest.fixture
def app(tmp_path: Path, rasa: Any) -> Flask:
    """The web app on a fresh data folder, talking to the test module's ``rasa`` stand-in.

    The knowledge admin's publisher is a recording stand-in: no unit test may write into the real index.
    """
    return create_app(AppSettings(data_dir=tmp_path), engine=rasa, publisher=RecordingPublisher())  # type: ignore[arg-type]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
