"""The ollama backend against a local server speaking Ollama's documented /api/chat protocol.

The fake listens on 127.0.0.1 on an ephemeral port and answers like Ollama: one JSON object when
``"stream": false``, newline-delimited JSON chunks ending with ``"done": true`` otherwise, and
``{"error": ...}`` with a 404 for an unknown model.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from knowledge.analyzer import KiwiAnalyzer
from knowledge.answer import KnowledgeService
from knowledge.documents import FaqEntry, load_helplines
from knowledge.embeddings import E5Embeddings
from knowledge.ingest import ingest_faqs
from knowledge.llm import build_chat_model
from knowledge.settings import LlmSettings, RetrievalSettings
from knowledge.store import SqliteStore

REPLY = "기초연금은 월 349,700원까지 받을 수 있어요 [1]."


class FakeOllama:
    """Records each request; replies with ``reply`` in chunks, after ``delay_s``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply = REPLY
        self.delay_s = 0.0
        self.models = {"qwen2.5:7b-instruct"}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, **body})
                if self.path != "/api/chat":
                    return self._json(404, {"error": "not found"})
                if body["model"] not in fake.models:
                    return self._json(404, {"error": f"model '{body['model']}' not found"})
                time.sleep(fake.delay_s)
                created = "2026-05-01T00:00:00Z"
                if body.get("stream") is False:
                    return self._json(200, {
                        "model": body["model"], "created_at": created,
                        "message": {"role": "assistant", "content": fake.reply},
                        "done": True, "done_reason": "stop", "total_duration": 1000, "eval_count": 12,
                    })  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                for i in range(0, len(fake.reply), 4):
                    chunk = {"model": body["model"], "created_at": created,
                             "message": {"role": "assistant", "content": fake.reply[i : i + 4]}, "done": False}  # fmt: skip
                    self.wfile.write((json.dumps(chunk, ensure_ascii=False) + "\n").encode())
                    self.wfile.flush()
                done = {"model": body["model"], "created_at": created, "message": {"role": "assistant", "content": ""},
                        "done": True, "done_reason": "stop", "total_duration": 1000, "eval_count": 12}  # fmt: skip
                self.wfile.write((json.dumps(done) + "\n").encode())

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/api/chat"]


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    fake = FakeOllama()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


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
