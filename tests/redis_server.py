"""A throw-away Redis server for tests: ``redis-server`` (Debian's package, `make redis`) on a free port of 127.0.0.1.

No persistence (no RDB, no AOF): nothing here needs to outlive the test. Used like tests/postgres.py.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

from tests.local_server import LocalServer
from tests.postgres import free_port


class RedisUnavailable(RuntimeError):
    """redis-server is not installed."""


class RedisServer(LocalServer):
    """Start with ``with RedisServer() as url:``; the server is stopped and its directory deleted on exit."""

    name = "redis-server"

    def __init__(self) -> None:
        super().__init__()
        binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None)
        if binary is None:
            raise RedisUnavailable("no redis-server: run `make redis` (it installs Debian's redis-server package)")
        self.binary = binary
        self.port = 0

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>``."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> str:
        """Start on a free port and wait until it answers PING; returns the URL."""
        self.root_dir = Path(tempfile.mkdtemp(prefix="bokji-redis-"))
        self.port = free_port()
        self.launch([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root_dir),
                     "--save", "", "--appendonly", "no", "--daemonize", "no"])  # fmt: skip
        self.wait_until(self.ping, timeout_s, self.root_dir / "stdout.log")
        return self.url

    def ping(self) -> bool:
        """Whether the server answers PING (raw RESP: no client library needed)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
