"""A server program run by a test as an ordinary process: its own temp dir, stopped and deleted afterwards.

tests/redis_server.py and tests/nginx.py build on it (tests/postgres.py predates it: PostgreSQL needs its own
user and pg_ctl).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


class LocalServer:
    """Launch with :meth:`launch`, wait with :meth:`wait_until`; ``with`` starts and stops it."""

    name = "server"

    def __init__(self) -> None:
        self.root_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start the server; returns its URL."""
        raise NotImplementedError

    def launch(self, argv: list[str]) -> None:
        """Run ``argv`` in its own session, its output in ``<root_dir>/stdout.log``."""
        assert self.root_dir is not None, "create root_dir first"
        log = (self.root_dir / "stdout.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, log: Path) -> None:
        """Poll ``ready`` until it holds; stop and raise (with the end of ``log``) if the process exits or time runs out."""
        assert self.process is not None, "not launched"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                self.stop()
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{tail}")
            if ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout_s:g} s")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s) and delete its directory."""
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
