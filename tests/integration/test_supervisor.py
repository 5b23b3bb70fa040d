"""`make run`'s supervisor reports a dying process instead of hiding it."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from bokji.supervisor import Stack, StackError

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


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 15156))
        busy.listen()
        stack = Stack(ports=(15106, 15156, 18101), log_dir=tmp_path, say=lambda _: None)
        with pytest.raises(StackError, match="port 15156 .* already in use"):
            stack.start(timeout_s=5)
