"""`make run`'s supervisor reports a dying process instead of hiding it, and brings it back."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from bokji.supervisor import Stack, StackError, stack_env

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_process_is_reported_by_name(tmp_path: Path) -> None:
    stack = Stack(ports=(_free_port(), _free_port(), _free_port()), log_dir=tmp_path, say=lambda _: None)
    stack.services = [s for s in stack.services if s.name == "actions"]
    stack.start(timeout_s=120)
    try:
        stack.check()
        proc = stack.services[0].process
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        with pytest.raises(StackError, match=r"actions exited with code -9"):
            stack.check()
    finally:
        stack.stop()


def test_a_killed_process_comes_back_by_itself_and_is_counted(tmp_path: Path) -> None:
    lines: list[str] = []
    env = stack_env("127.0.0.1", ports := (_free_port(), _free_port(), _free_port()), tmp_path / "data")
    stack = Stack(ports=ports, log_dir=tmp_path, env=env, say=lines.append)
    stack.services = [s for s in stack.services if s.name == "actions"]
    stack.start(timeout_s=300)
    try:
        _kill(stack)
        deadline = time.monotonic() + 300  # the action server loads its knowledge again (~10 s idle, minutes on a busy box)
        while not any("actions is up again" in line for line in lines) and time.monotonic() < deadline:
            stack.watch()
            time.sleep(0.2)
        assert httpx.get(f"{stack.url('actions')}/health", timeout=5).is_success, "\n".join(lines)
        assert json.loads((tmp_path / "data" / "restarts.json").read_text())["actions"] == 1
        assert any("actions exited with code -9 after" in line and "restarting it in 1 s (restart 1;" in line for line in lines)
        _kill(stack)  # dying again soon after its restart: it waits longer before the next start
        stack.watch()
        assert "restarting it in 2 s (restart 2;" in lines[-1]
        assert json.loads((tmp_path / "data" / "restarts.json").read_text())["actions"] == 2
    finally:
        stack.stop()


def _kill(stack: Stack) -> None:
    proc = stack.services[0].process
    assert proc is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 15156))
        busy.listen()
        stack = Stack(ports=(15106, 15156, 18101), log_dir=tmp_path, say=lambda _: None)
        with pytest.raises(StackError, match="port 15156 .* already in use"):
            stack.start(timeout_s=5)
