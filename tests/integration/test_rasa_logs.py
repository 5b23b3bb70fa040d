"""`rasa run` as the supervisor starts it writes our log lines: JSON, process "rasa", masked, with the turn's request id.

Only Rasa runs (its command from bokji/supervisor.py, free ports); the action server is left down on purpose, so
the welfare question's custom action fails and Rasa logs an error inside the turn, which must carry the id the
web app sent in the message metadata.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bokji.supervisor import ROOT, Stack, stack_env

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _json(line: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def test_rasa_writes_masked_json_lines_with_the_turns_request_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (ROOT / "bot" / "models" / "bokji.tar.gz").exists():
        pytest.fail("no trained Rasa model: run `make setup` first")
    monkeypatch.setenv("BOKJI_LOG_FORMAT", "json")
    ports = (_free_port(), _free_port(), _free_port())
    env = {**stack_env("127.0.0.1", ports, tmp_path / "data"), "BOKJI_LOG_FORMAT": "json"}
    stack = Stack(ports=ports, log_dir=tmp_path, env=env, say=lambda _: None)
    stack.services = [s for s in stack.services if s.name == "rasa"]
    assert "--logging-config-file" in stack.services[0].argv
    stack.start(timeout_s=300)
    request_id = f"itest-rasa-{os.getpid()}"
    try:
        response = httpx.post(
            f"{stack.url('rasa')}/webhooks/rest/webhook",
            json={
                "sender": "web:logs-test",
                "message": "기초연금 얼마 받을 수 있어요? 제 번호는 010-2345-6789예요",
                "metadata": {"request_id": request_id},
            },
            timeout=60,
        )
        assert response.status_code == 200, response.text
        time.sleep(0.5)  # Rasa flushes its lines on its own
    finally:
        stack.stop()
    text = (tmp_path / "rasa.log").read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [_json(line) for line in lines]
    up = next(i for i, line in enumerate(parsed) if line and line["message"] == "Rasa server is up and running.")
    plain_after_start = [line for line, p in zip(lines[up:], parsed[up:], strict=True) if p is None]
    assert plain_after_start == [], "every line once Rasa serves is ours"
    ours = [p for p in parsed if p is not None]
    assert all(p["process"] == "rasa" and set(p) >= {"time", "level", "logger", "message", "request_id"} for p in ours)
    turn = [p for p in ours if p["request_id"] == request_id]
    assert turn and any(p["level"] == "ERROR" and p["logger"].startswith("rasa.") for p in turn), (
        "the failed action, under the turn's id"
    )
    assert all(p["request_id"] in (None, request_id) for p in ours), "the id is not left on later lines of other requests"
    assert "010-2345-6789" not in text
