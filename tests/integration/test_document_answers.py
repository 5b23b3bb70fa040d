"""Issue 10's must-show: documents a welfare team drops into a folder are answered, with the document named as the source.

A DOCX (written here with python-docx: headings and paragraphs about a city program the seed lacks) and a real
HWPX (a 문화체육관광부 press release, tests/fixtures/documents) go into one folder; the real `bokji ingest`
indexes them into a copy of the seed index; then `POST /api/v1/chat` is asked about each document through the
real web app, Rasa and action server, with the default model backend (llama.cpp in-process), with the model
stopped (an Ollama backend whose port is closed), and with `none`. One Rasa and one web app serve all three;
only the action server restarts with the next backend (:meth:`bokji.supervisor.Stack.restart`).
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bokji.supervisor import ROOT, Stack, stack_env
from tests.citizen_support import API_AUTH, TEST_API_KEYS, api_sender

pytestmark = pytest.mark.integration

PORTS = (15305, 15355, 18300)  # rasa, actions, web: apart from the session stack's
SEED_STORE = ROOT / "var" / "knowledge.sqlite3"
HWPX = ROOT / "tests" / "fixtures" / "documents" / "mcst-press-release-2024.hwpx"

DOCX_TITLE = "예시시 청년 마음건강 바우처 안내"
DOCX_Q = "마음건강 바우처 소득 기준 있나요?"
DOCX_HEADING = "2. 지원 대상"
DOCX_SENTENCES = ("예시시에 주민등록을 둔 만 19세부터 34세까지의 청년이 지원 대상입니다.", "소득 기준은 없습니다.")

HWPX_TITLE = "2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다"
HWPX_Q = "장미란 차관은 진천 선수촌 양궁 훈련장에서 무엇을 하나요?"
HWPX_HEADING = "진천 국가대표 선수촌 양궁 훈련장 등 살피고 선수들 격려, 이천 장애인 국가대표 선수촌에서 선수들과 함께 식사"
HWPX_SENTENCES = (
    "장미란 차관은 먼저 진천 국가대표 선수촌을 방문해 선수들의 훈련 상황을 점검한다.",
    "양궁훈련장 등 훈련시설을 직접 살펴보고 추운 날씨에도 연습에 매진하고 있는 선수들을 격려할 예정이다.",
)


def write_docx(path: Path) -> None:
    """A city's guide as a welfare team would write it in Word: a title, numbered headings, paragraphs."""
    import docx

    document = docx.Document()
    document.add_heading(DOCX_TITLE, level=0)
    sections = {
        "1. 사업 개요": "예시시 청년 마음건강 바우처는 우울감이나 불안을 겪는 청년에게 전문 심리상담 서비스를 지원하는 예시시 자체 사업입니다.",
        DOCX_HEADING: " ".join(DOCX_SENTENCES),
        "3. 지원 내용": "1회 50분 심리상담을 총 8회까지 받을 수 있으며, 본인부담금은 회당 5,000원입니다.",
        "4. 신청 방법": "예시시 보건소 정신건강복지센터를 방문하거나 예시시 누리집에서 온라인으로 신청할 수 있습니다.",
    }
    for heading, text in sections.items():
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    document.save(str(path))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: connections are refused


BACKENDS: dict[str, dict[str, str]] = {
    "default": {},  # llama.cpp in-process, as `make run` starts it
    "model-stopped": {
        "BOKJI_KNOWLEDGE__LLM__BACKEND": "ollama",
        "BOKJI_KNOWLEDGE__LLM__OLLAMA_HOST": f"http://127.0.0.1:{_closed_port()}",
    },
    "none": {"BOKJI_KNOWLEDGE__LLM__BACKEND": "none"},
}


@dataclass
class DocumentStack:
    stack: Stack
    env: dict[str, str]
    data_dir: Path
    backend: str = "default"

    @property
    def web(self) -> str:
        return self.stack.url("web")

    def use(self, backend: str) -> None:
        """Restart the action server with ``backend`` (Rasa and the web app keep running)."""
        if backend != self.backend:
            self.stack.restart("actions", {**self.env, **BACKENDS[backend]})
            self.backend = backend


def copy_seed_index(target: Path) -> None:
    """The index `make setup` built from the seed FAQs, copied consistently (it is a WAL database)."""
    source = sqlite3.connect(f"file:{SEED_STORE}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()


@pytest.fixture(scope="module")
def documents_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentStack]:
    if not (ROOT / "bot" / "models" / "bokji.tar.gz").exists() or not SEED_STORE.exists():
        pytest.fail("no trained Rasa model or seed index: run `make setup` first")
    base = tmp_path_factory.mktemp("documents")
    folder, data_dir, store = base / "knowledge", base / "data", base / "knowledge.sqlite3"
    folder.mkdir()
    data_dir.mkdir()
    write_docx(folder / "청년 마음건강 바우처.docx")
    (folder / "청년 마음건강 바우처.docx.meta.yaml").write_text("tenant: yesi\nupdated_at: 2026-11-01\n", encoding="utf-8")
    shutil.copy2(HWPX, folder / HWPX.name)  # no metadata file: its title comes from the document itself
    copy_seed_index(store)
    env = {**stack_env("127.0.0.1", PORTS, data_dir), "BOKJI_KNOWLEDGE__STORE__PATH": str(store), "BOKJI_API_KEYS": TEST_API_KEYS}
    ingest = subprocess.run(
        [sys.executable, "-m", "bokji", "ingest", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    assert "0 FAQs and 2 documents from 2 files" in ingest.stdout and "added 2" in ingest.stdout, ingest.stdout
    stack = Stack(ports=PORTS, log_dir=base / "log", env=env, say=lambda _: None)
    try:
        stack.start(timeout_s=420)
        warm_up(stack.url("web"))
        yield DocumentStack(stack, env, data_dir)
    finally:
        stack.stop()


def warm_up(web: str, timeout_s: float = 180.0) -> None:
    """Send a greeting until Rasa answers: its first message after loading builds the model's graphs (slow on 2 cores)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if (
                httpx.post(
                    f"{web}/api/v1/chat", json={"session_id": "warm-up", "text": "안녕하세요"}, headers=API_AUTH, timeout=60
                ).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    pytest.fail("Rasa did not answer a greeting within 3 minutes of starting")


def ask(running: DocumentStack, session: str, text: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The one message `/api/v1/chat` answers with, the transcript's record of it, and the raw response."""
    response = httpx.post(f"{running.web}/api/v1/chat", json={"session_id": session, "text": text}, headers=API_AUTH, timeout=120)
    assert response.status_code == 200, response.text
    [message] = response.json()["messages"]
    db = sqlite3.connect(running.data_dir / "conversations.sqlite3")
    [(meta,)] = db.execute(
        "SELECT meta FROM turns WHERE sender_id = ? AND role = 'bot' ORDER BY id DESC LIMIT 1", (api_sender(session),)
    ).fetchall()
    db.close()
    return message, json.loads(meta), response.text


# The first decorator varies fastest: both documents are asked before the action server restarts.
@pytest.mark.parametrize(
    ("document", "question", "title", "heading", "sentences", "fact"),
    [
        pytest.param("docx", DOCX_Q, DOCX_TITLE, DOCX_HEADING, DOCX_SENTENCES, "소득 기준", id="docx"),
        pytest.param("hwpx", HWPX_Q, HWPX_TITLE, HWPX_HEADING, HWPX_SENTENCES, "진천", id="hwpx"),
    ],
)
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_a_question_about_an_ingested_document_is_answered_from_it_and_names_it(
    documents_stack: DocumentStack,
    backend: str,
    document: str,
    question: str,
    title: str,
    heading: str,
    sentences: tuple[str, ...],
    fact: str,
) -> None:
    documents_stack.use(backend)
    started = time.monotonic()
    message, meta, raw = ask(documents_stack, f"doc-{document}-{backend}", question)
    took = time.monotonic() - started
    decision = meta["decision"]
    mode = meta["mode"]
    assert decision["hits"][0]["kind"] == "document" and decision["hits"][0]["title"] == title, decision["hits"][:2]
    source = message["sources"][0]
    assert source["title"] == title and source["location"] == heading, message["sources"]
    assert "decision" not in raw and "retrieve_ms" not in raw, "the decision record is for staff, not citizens"
    if backend == "default":
        # The model composes from the passage (or, if its text fails the grounding check or is late, the
        # passage is quoted); either way the answer stands on the document.
        assert decision["model"] and mode in ("generated", "extractive"), (mode, decision["fallback"], message["text"])
        assert fact in message["text"] and "[1]" in message["text"], message["text"]
        if mode == "extractive":
            assert any(s in message["text"] for s in sentences), message["text"]
    else:
        expected = ("extractive", "model_error") if backend == "model-stopped" else ("extractive", "")
        assert (mode, decision["fallback"]) == expected, (decision["reason"], decision["fallback"], message["text"])
        assert any(s in message["text"] for s in sentences), message["text"]
        assert decision["model_skipped"] == ("no_model" if backend == "none" else "")
        assert took < 10.0, f"an answer without a working model took {took:.1f} s"
