"""A throw-away Redis server for tests: ``redis-server`` (Debian's package, `make redis`) on a free port of 127.0.0.1.

No persistence (no RDB, no AOF): nothing here needs to outlive the test. Used like tests/postgres.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.postgres import free_port


class RedisUnavailable(RuntimeError):
    """redis-server is not installed."""


class RedisServer:
    """Start with ``with RedisServer() as url:``; the server is stopped and its directory deleted on exit."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None)
        if binary is None:
            raise RedisUnavailable("no redis-server: run `make redis` (it installs Debian's redis-server package)")
        self.binary = binary
        self.port = 0
        self.root_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>``."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> str:
        """Start on a free port and wait until it answers PING; returns the URL."""
        self.root_dir = Path(tempfile.mkdtemp(prefix="bokji-redis-"))
        self.port = free_port()
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root_dir),
                "--save", "", "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
        log = (self.root_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.root_dir / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"redis-server exited with code {self.process.returncode}:\n{tail}")
            if self.ping():
                return self.url
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout_s:g} s")

    def ping(self) -> bool:
        """Whether the server answers PING (raw RESP: no client library needed)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.root_dir is not None:
            shutil.rmtree(self.root_dir, ignore_errors=True)
            self.root_dir = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.stop()
