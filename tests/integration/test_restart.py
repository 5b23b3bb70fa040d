"""A crash of the web app (SIGKILL, no clean shutdown) loses no waiting handoff, agent reply or transcript turn.

The web app runs as its own process (``python -m channels``) against a stand-in Rasa over HTTP; the agent
acts through the handoff state machine on the same database, as a second web process would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.citizen_support import open_http_session
from tests.handoff_support import build, staff

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HANDOFF = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}, "mode": "none"}}]
ANSWER = [{"text": "2026년 기초연금은 월 349,700원이에요."}, {"custom": {"mode": "faq", "sources": []}}]


class _Rasa(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the probe at /
        self._send({"status": "ok"})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._send(HANDOFF if body["message"] == "/request_human" else ANSWER)

    def _send(self, value: Any) -> None:
        data = json.dumps(value, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _start_web(data_dir: Path, port: int, rasa_url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), BOKJI_DATA_DIR=str(data_dir), BOKJI_WEB_PORT=str(port),
               BOKJI_RASA_URL=rasa_url, BOKJI_WIDGET__STREAMING="false")  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "channels"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/history?session_id=probe", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    pytest.fail("the web app did not start")


def test_a_crash_loses_no_handoff_agent_reply_or_turn(tmp_path: Path, rasa_url: str) -> None:
    port = _free_port()
    web = f"http://127.0.0.1:{port}"
    process = _start_web(tmp_path, port, rasa_url)
    try:
        (a, a_holder), (b, b_holder) = open_http_session(web), open_http_session(web)
        for holder in (a_holder, b_holder):
            reply = httpx.post(f"{web}/api/v1/widget/chat", json={"text": "/request_human"}, headers=holder, timeout=10)
            assert reply.status_code == 200 and reply.json()["messages"][0]["handoff"] is True
        agents = build(f"sqlite:///{tmp_path / 'conversations.sqlite3'}")
        kim = staff(agents, "kim", name="김상담")
        [first, second] = agents.queue()
        agents.claim(first.id, kim)
        agents.reply(first.id, kim, "안녕하세요, 상담원 김상담이에요. 무엇을 도와드릴까요?")
        said = httpx.post(f"{web}/api/v1/widget/chat", json={"text": "기초연금 신청하고 싶어요"}, headers=a_holder, timeout=10)
        assert said.json()["messages"] == []  # the agent answers, not the bot
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    process = _start_web(tmp_path, port, rasa_url)
    try:
        # The restarted app still knows the session: its key is kept in the data folder.
        history = httpx.get(f"{web}/api/v1/history", headers=a_holder, timeout=10).json()["messages"]
        texts = [m["text"] for m in history]
        assert texts[-3:] == ["상담원이 연결되었어요. 지금부터 상담원이 직접 답해 드려요.",
                              "안녕하세요, 상담원 김상담이에요. 무엇을 도와드릴까요?", "기초연금 신청하고 싶어요"]  # fmt: skip
        after = build(f"sqlite:///{tmp_path / 'conversations.sqlite3'}")
        states = {v.sender_id: v.state for v in after.queue()}
        assert states == {f"web:{a}": "with_agent", f"web:{b}": "waiting"}
        # The chat the agent holds is still held: the restarted app keeps the bot silent.
        again = httpx.post(f"{web}/api/v1/widget/chat", json={"text": "여보세요?"}, headers=a_holder, timeout=10)
        assert again.json()["messages"] == []
        assert second.id in [v.id for v in after.queue()]
    finally:
        process.terminate()
        process.wait(10)
