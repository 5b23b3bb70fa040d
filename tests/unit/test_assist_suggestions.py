"""The action server's ``POST /assist/suggestions``: replies a person may send, from the retriever only, with sources."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from actions.server import build_app
from actions.settings import ActionServerSettings
from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import index_id, ingest
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import RetrievalSettings
from tests.unit.test_document_answers import COPAY_Q, COPAY_SENTENCE, DOC_SOURCE, DOCUMENT


@pytest.fixture(scope="module")
def knowledge(
    tmp_path_factory: pytest.TempPathFactory, analyzer: KiwiAnalyzer, embeddings: E5Embeddings, subset_entries: list[FaqEntry]
) -> KnowledgeService:
    """Seed FAQs and one long document; no language model (suggestions never use one)."""
    path: Path = tmp_path_factory.mktemp("assist") / "store.sqlite3"
    store = SqliteStore(path, analyzer, model_id=index_id(embeddings), dim=384)
    ingest(store, embeddings, subset_entries, [DOCUMENT])
    return KnowledgeService(store, embeddings, RetrievalSettings(), load_helplines(), analyzer=analyzer)


@pytest.fixture
def post(knowledge: KnowledgeService, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """POST to the real action server app (rasa-sdk's Sanic app plus our routes) in process, through ASGI."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # each test builds rasa-sdk's app, always named "rasa_sdk"
    app = build_app(knowledge, ActionServerSettings())

    async def exchange(body: Any, raw: bytes | None) -> httpx.Response:
        startup = await _lifespan(app)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://actions") as client:
                content = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
                return await client.post("/assist/suggestions", content=content, headers={"Content-Type": "application/json"})
        finally:
            startup.cancel()

    def _post(body: Any = None, raw: bytes | None = None) -> httpx.Response:
        return asyncio.run(exchange(body, raw))

    yield _post


async def _lifespan(app: Sanic) -> asyncio.Task[None]:
    """Start the app as an ASGI server would (Sanic needs its loop before the first request)."""
    started: list[dict[str, Any]] = []
    messages = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # never shut down while the test talks to it
        return {}

    async def send(message: dict[str, Any]) -> None:
        started.append(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))  # type: ignore[arg-type]
    while not started:
        await asyncio.sleep(0.01)
    assert started[0]["type"] == "lifespan.startup.complete", started
    return task


def test_an_faq_hit_is_suggested_with_its_curated_answer_as_written_and_its_source(
    post: Any, subset_entries: list[FaqEntry]
) -> None:
    entry = next(e for e in subset_entries if e.id == "basic-pension-apply")
    response = post({"text": "기초연금은 어디서 신청해요?", "limit": 3})
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    assert 1 <= len(suggestions) <= 3
    top = suggestions[0]
    assert top["kind"] == "faq" and top["text"] == entry.answer
    assert top["sources"] == [{"title": entry.source.title, "url": entry.source.url, "updated_at": entry.updated_at.isoformat()}]
    assert 0.9 < top["score"] <= 1.0


def test_a_document_passage_is_quoted_with_its_page_and_section(post: Any) -> None:
    suggestions = post({"text": COPAY_Q}).json()["suggestions"]
    document = next(s for s in suggestions if s["kind"] == "document")
    assert COPAY_SENTENCE in document["text"]
    assert all(sentence in _document_text() for sentence in document["text"].split(". ") if sentence)
    assert document["sources"][0]["title"] == DOC_SOURCE
    assert document["sources"][0]["location"] == "3쪽 · 3. 지원 내용"


def _document_text() -> str:
    return " ".join(section.text for section in DOCUMENT.sections)


def test_a_question_about_nothing_in_the_knowledge_base_gets_no_suggestion(post: Any) -> None:
    response = post({"text": "안녕하세요"})
    assert response.status_code == 200 and response.json() == {"suggestions": []}


def test_the_limit_caps_how_many_come_back(post: Any) -> None:
    assert len(post({"text": "기초연금 얼마 받을 수 있어요?", "limit": 1}).json()["suggestions"]) == 1


@pytest.mark.parametrize(
    ("body", "raw", "status", "code"),
    [
        (None, b"{not json", 400, "bad_json"),
        (["기초연금"], None, 400, "bad_request"),
        ({"limit": 3}, None, 400, "missing_text"),
        ({"text": "   "}, None, 400, "missing_text"),
        ({"text": "기초연금", "limit": 0}, None, 400, "bad_limit"),
        ({"text": "기초연금", "limit": 50}, None, 400, "bad_limit"),
        ({"text": "기초연금", "limit": True}, None, 400, "bad_limit"),
        ({"text": "가" * 1001}, None, 413, "text_too_long"),
        (None, b'{"text": "' + b"a" * 9000 + b'"}', 413, "too_large"),
    ],
)
def test_bad_input_gets_a_clear_4xx(post: Any, body: Any, raw: bytes | None, status: int, code: str) -> None:
    response = post(body, raw)
    assert response.status_code == status
    assert response.json()["error"] == code and response.json()["message"]
