"""The web app served as `bokji run` serves it: many citizens' idle keep-alive connections do not lock out the next one."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.local_server import LocalServer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PORT = 18600 + int(os.environ.get("BOKJI_TEST_PORT_OFFSET", "0"))
IDLE_CITIZENS = 150  # waitress's own default accepts 100 connections, then stops accepting until one closes


class WebApp(LocalServer):
    """``python -m channels`` on its own data folder (Rasa and the action server absent: their replies are not needed)."""

    name = "web app"

    def start(self) -> str:
        self.root_dir = Path(tempfile.mkdtemp(prefix="bokji-web-"))
        os.environ.update(BOKJI_DATA_DIR=str(self.root_dir), BOKJI_WEB_PORT=str(PORT), BOKJI_RASA_URL="http://127.0.0.1:9")
        try:
            self.launch([sys.executable, "-m", "channels"])
        finally:
            for name in ("BOKJI_DATA_DIR", "BOKJI_WEB_PORT", "BOKJI_RASA_URL"):
                os.environ.pop(name, None)
        url = f"http://127.0.0.1:{PORT}"

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/", timeout=1).status_code < 500
            except httpx.HTTPError:
                return False

        self.wait_until(answers, 60, self.root_dir / "stdout.log")
        return url


def test_the_citizen_after_150_idle_keep_alive_connections_is_still_served() -> None:
    with WebApp() as url:
        idle = []
        try:
            for _ in range(IDLE_CITIZENS):  # each opens a connection, gets a page and keeps the connection open
                sock = socket.create_connection(("127.0.0.1", PORT), timeout=5)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n")
                assert sock.recv(64).startswith(b"HTTP/1.1 "), "an idle citizen's first page did not come"
                idle.append(sock)
            started = time.monotonic()
            response = httpx.get(f"{url}/", timeout=10)
            assert response.status_code < 500
            assert time.monotonic() - started < 5, "the next citizen waited for an idle connection to be dropped"
        finally:
            for sock in idle:
                sock.close()
