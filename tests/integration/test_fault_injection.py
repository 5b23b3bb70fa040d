"""Issue 14's fault injection: Rasa, the action server and the model each die mid-conversation under `bokji run`.

Meanwhile every citizen message gets a Korean reply (a crisis its helplines first) and ``/healthz`` names the
dependency that is down; `bokji run` brings Rasa and the action server back by itself, and the conversation,
an open eligibility form included, continues where it was (Rasa's SQL tracker store keeps it).

The model here is an Ollama server (a stand-in speaking Ollama's protocol, tests/unit/ollama_fake.py), stopped
and started again on its port: the default in-process llama.cpp model lives inside the action server, so
killing it is the action server case. An Ollama server is brought back by its own service manager, not by
`bokji run`; what is ours is answering without it and using it again once it is back.

One stack for the module, on its own ports and data dir (BOKJI_TEST_PORT_OFFSET moves them too). The
measured times of each recovery are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import PORTS, copy_seed_index, start_bokji_run
from tests.unit.ollama_fake import FakeOllama

pytestmark = pytest.mark.integration

OWN_PORTS = {name: port + 30 for name, port in PORTS.items()}  # beside the shared stack's
API_KEY = secrets.token_urlsafe(24)
GENERATED_Q = "의료급여 선정기준은 몇 퍼센트인가요?"  # an answer the model writes (tests/integration/test_streaming.py)
HANGUL = re.compile(r"[가-힣]")


@dataclass
class FaultStack:
    web: str
    data_dir: Path
    process: subprocess.Popen[str]
    model: FakeOllama
    model_port: int

    def log(self) -> str:
        return (self.data_dir / "run.log").read_text()

    def pid(self, name: str) -> int:
        """The pid `bokji run` last started ``name`` with (its "starting <name> (pid N" line)."""
        return int(re.findall(rf"starting {name} \(pid (\d+)", self.log())[-1])

    def kill(self, name: str) -> float:
        os.killpg(self.pid(name), signal.SIGKILL)
        return time.monotonic()

    def stop_model(self) -> None:
        self.model.close()

    def start_model(self) -> None:
        handler = self.model.server.RequestHandlerClass
        self.model.server = ThreadingHTTPServer(("127.0.0.1", self.model_port), handler)
        self.model.server.daemon_threads = True
        self.model.start()


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    data_dir = tmp_path_factory.mktemp("faults")
    model = FakeOllama()
    model.start()
    model_port = model.server.server_address[1]
    env = dict(
        os.environ,
        BOKJI_DATA_DIR=str(data_dir),
        BOKJI_KNOWLEDGE__STORE__PATH=str(copy_seed_index(data_dir / "knowledge.sqlite3")),
        PYTHONUNBUFFERED="1",
        BOKJI_KNOWLEDGE__LLM__BACKEND="ollama",
        BOKJI_KNOWLEDGE__LLM__OLLAMA_HOST=model.url,
        BOKJI_RASA_TIMEOUT_S="70",  # a busy 2-core box: Rasa's first answers after a restart are slow
        BOKJI_API_KEYS=f"fault:{API_KEY}",  # /api/v1/chat for integrations (channels/api_keys.py)
        BOKJI_RATE_LIMIT__PER_CLIENT="100000/minute",
        BOKJI_RATE_LIMIT__HANDOFFS="100000/hour",
    )
    for name in ("BOKJI_DATABASE_URL", "BOKJI_REDIS_URL", "BOKJI_TRACKER_URL", "BOKJI_RASA_TRACKER_URL"):
        env.pop(name, None)
    process = start_bokji_run(env, OWN_PORTS, data_dir / "run.log", timeout_s=1000)
    running = FaultStack(f"http://127.0.0.1:{OWN_PORTS['web']}", data_dir, process, model, model_port)
    yield running
    process.send_signal(signal.SIGINT)  # Ctrl-C: still stops everything cleanly after the restarts
    process.wait(timeout=120)
    model.close()
    assert process.returncode == 0 and "stopped." in running.log(), running.log()[-2000:]


def say(stack: FaultStack, session: str, text: str) -> tuple[int, list[dict[str, Any]]]:
    """One citizen message through the chat API: the status and the bot's messages (never a connection error)."""
    response = httpx.post(
        f"{stack.web}/api/v1/chat",
        json={"session_id": session, "text": text},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=120,
    )
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    messages = response.json()["messages"]
    assert messages and all(HANGUL.search(m["text"]) for m in messages), f"not a Korean reply: {messages}"
    return response.status_code, messages


def said(stack: FaultStack, session: str, text: str) -> str:
    return "\n".join(m["text"] for m in say(stack, session, text)[1])


def health(stack: FaultStack) -> dict[str, Any]:
    response = httpx.get(f"{stack.web}/healthz", timeout=30)
    assert response.status_code in (200, 503)
    body: dict[str, Any] = response.json()
    assert (response.status_code == 200) == (body["status"] == "ok")
    return body


def wait_until_up(stack: FaultStack, name: str, since: float, timeout_s: float = 600) -> float:
    """Seconds from ``since`` until /healthz reports ``name`` up again (Rasa: with its model loaded)."""
    while time.monotonic() - since < timeout_s:
        if health(stack)["dependencies"][name] == "up" and f"{name} is up again" in stack.log():
            return time.monotonic() - since
        time.sleep(1)
    pytest.fail(f"{name} did not come back in {timeout_s:.0f} s:\n{stack.log()[-2000:]}")


def assert_crisis_answered(stack: FaultStack, session: str) -> None:
    status, messages = say(stack, session, "요즘 너무 힘들어서 죽고 싶어요")
    assert "109" in messages[0]["text"], f"helplines first, whatever is down: {messages[0]['text']}"


def test_rasa_killed_mid_form_the_citizen_is_answered_and_the_form_continues(fault_stack: FaultStack) -> None:
    assert "몇 명" in said(fault_stack, "rasa-form", "주거급여 받을수잇나요")
    assert "소득" in said(fault_stack, "rasa-form", "네식구요")
    killed = fault_stack.kill("rasa")
    time.sleep(1)
    body = health(fault_stack)
    assert body["status"] == "degraded" and body["dependencies"]["rasa"] == "down"
    status, [apology, *_] = say(fault_stack, "rasa-form", "월 200만원 벌어요")
    assert status == 200 and "129" in apology["text"] and apology["buttons"][0]["payload"] == "월 200만원 벌어요"
    assert_crisis_answered(fault_stack, "rasa-crisis")
    back = wait_until_up(fault_stack, "rasa", killed)
    print(f"\nrasa: killed -> healthy again in {back:.1f} s")  # noqa: T201
    assert "rasa exited with code -9" in fault_stack.log()
    # The citizen presses 다시 보내기: the form still knows the household of four and asked for income.
    verdict = said(fault_stack, "rasa-form", "월 200만원 벌어요")
    assert "[모의 계산] 주거급여" in verdict and "2,000,000원" in verdict, verdict


def test_action_server_killed_mid_form_the_citizen_is_answered_and_the_form_continues(fault_stack: FaultStack) -> None:
    assert "몇 명" in said(fault_stack, "actions-form", "생계급여 받을 수 있을까요?")
    killed = fault_stack.kill("actions")
    time.sleep(1)
    assert health(fault_stack)["dependencies"]["actions"] == "down"
    meanwhile = said(fault_stack, "actions-other", "기초연금 얼마예요?")  # Rasa is up, its actions are not
    assert "죄송해요" in meanwhile or "349,700원" in meanwhile, meanwhile
    assert_crisis_answered(fault_stack, "actions-crisis")
    back = wait_until_up(fault_stack, "actions", killed)
    print(f"\nactions: killed -> healthy again in {back:.1f} s")  # noqa: T201
    assert "소득" in said(fault_stack, "actions-form", "혼자 살아요"), "the form goes on from the household question"


def test_model_stopped_answers_without_it_and_uses_it_again_when_back(fault_stack: FaultStack) -> None:
    assert "몇 명" in said(fault_stack, "model-form", "주거급여 받을수잇나요")
    fault_stack.stop_model()
    try:
        without = said(fault_stack, "model-question", GENERATED_Q)
        assert_crisis_answered(fault_stack, "model-crisis")
        assert "소득" in said(fault_stack, "model-form", "네식구요"), "the form needs no model"
    finally:
        fault_stack.start_model()
    asked = len(fault_stack.model.chat_requests())
    again = said(fault_stack, "model-question-2", GENERATED_Q)
    assert len(fault_stack.model.chat_requests()) > asked, "the action server asks the model again once it is back"
    assert again and without
