"""The ollama backend against a local server speaking Ollama's documented /api/chat protocol (tests/unit/ollama_fake.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from knowledge.answering.llm import build_chat_model
from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import ingest_faqs
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import LlmSettings, RetrievalSettings
from tests.unit.ollama_fake import REPLY, FakeOllama


def settings(url: str, **kwargs: Any) -> LlmSettings:
    return LlmSettings(backend="ollama", ollama_host=url, **kwargs)


def test_non_streaming_request_carries_model_options_and_keep_alive(ollama: FakeOllama) -> None:
    model = build_chat_model(settings(ollama.url, max_tokens=99, ollama_keep_alive="10m"))
    assert model is not None
    reply = model.invoke([SystemMessage("규칙"), HumanMessage("질문")], stream=False)
    assert reply.content == REPLY
    [request] = ollama.chat_requests()
    assert request["stream"] is False and request["model"] == "qwen2.5:7b-instruct"
    assert request["messages"] == [{"role": "system", "content": "규칙"}, {"role": "user", "content": "질문"}]
    assert request["options"]["temperature"] == 0.0 and request["options"]["num_predict"] == 99
    assert request["options"]["num_ctx"] == 4096 and request["keep_alive"] == "10m"


def test_streaming_request_yields_the_chunks_in_order(ollama: FakeOllama) -> None:
    model = build_chat_model(settings(ollama.url))
    assert model is not None
    chunks = [str(c.content) for c in model.stream([HumanMessage("질문")])]
    assert len(chunks) > 3 and "".join(chunks) == REPLY
    assert ollama.chat_requests()[0]["stream"] is True


def test_nothing_is_sent_when_the_model_is_built(ollama: FakeOllama) -> None:
    build_chat_model(settings(ollama.url))
    assert ollama.requests == []


@pytest.fixture
def service_for(
    store: SqliteStore, embeddings: E5Embeddings, analyzer: KiwiAnalyzer, subset_entries: list[FaqEntry]
) -> Any:
    ingest_faqs(store, embeddings, subset_entries)

    def _make(llm_settings: LlmSettings) -> KnowledgeService:
        return KnowledgeService(
            store, embeddings, RetrievalSettings(faq_min_dense=1.0), load_helplines(),
            llm=build_chat_model(llm_settings), llm_settings=llm_settings, analyzer=analyzer,
        )  # fmt: skip

    return _make


def test_the_chain_streams_a_grounded_answer_from_ollama(ollama: FakeOllama, service_for: Any) -> None:
    service = service_for(settings(ollama.url))
    events = list(service.stream("기초연금 최대 얼마까지 받을 수 있어요?"))
    assert [e.kind for e in events[:2]] == ["generating", "delta"] and "349,700원" in events[1].text
    final = events[-1].answer
    assert final is not None and final.mode == "generated" and final.fallback == ""
    assert "[자료]" in ollama.chat_requests()[0]["messages"][-1]["content"]


def test_an_unknown_model_falls_back_to_the_extractive_answer(ollama: FakeOllama, service_for: Any) -> None:
    answer = service_for(settings(ollama.url, ollama_model="missing:1b")).answer("기초연금 최대 얼마까지 받을 수 있어요?")
    assert answer.fallback == "model_error" and "349,700원" in answer.text


def test_a_hung_server_is_cut_off_at_the_deadline(ollama: FakeOllama, service_for: Any) -> None:
    ollama.delay_s = 3.0
    service = service_for(settings(ollama.url, timeout_s=0.5))
    start = time.perf_counter()
    answer = service.answer("기초연금 최대 얼마까지 받을 수 있어요?")
    assert time.perf_counter() - start < 2.0 and answer.fallback == "timeout"


def test_a_stopped_server_gives_the_extractive_answer_at_once(ollama: FakeOllama, service_for: Any) -> None:
    url = ollama.url
    ollama.server.shutdown()
    ollama.server.server_close()
    service = service_for(settings(url))
    start = time.perf_counter()
    answer = service.answer("기초연금 최대 얼마까지 받을 수 있어요?")
    assert time.perf_counter() - start < 3.0 and answer.fallback == "model_error"
