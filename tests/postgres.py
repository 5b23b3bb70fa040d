"""A throw-away PostgreSQL server for tests: its own cluster in a temp dir, on a free port of 127.0.0.1.

The server binaries come from Debian's postgresql package (`make setup` installs it); they live in
/usr/lib/postgresql/<version>/bin, off PATH. ``BOKJI_PG_BIN`` points elsewhere. initdb refuses to run as
root, so as root the server runs as the package's ``postgres`` system user.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

SUPERUSER = "bokji"
SERVICE_USER = "postgres"
# A cluster nobody keeps: durability off for speed.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "40",
    "shared_buffers": "32MB",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """The server binaries (or the user to run them as) are missing."""


def find_bin_dir() -> Path:
    """``BOKJI_PG_BIN``, else the newest /usr/lib/postgresql/<version>/bin, else initdb's directory on PATH."""
    if override := os.environ.get("BOKJI_PG_BIN"):
        if not (Path(override) / "initdb").is_file():
            raise PostgresUnavailable(f"BOKJI_PG_BIN={override} has no initdb: point it at PostgreSQL's bin directory")
        return Path(override)
    installed = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()]
    if installed:
        return max(installed, key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)] or [0])
    if on_path := shutil.which("initdb"):
        return Path(on_path).parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH: "
        "run `make setup` (it installs Debian's postgresql package), or set BOKJI_PG_BIN"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """Start with ``with PostgresServer() as url:``; the cluster is stopped and deleted on exit."""

    def __init__(self, database: str = "bokji_test", bin_dir: Path | None = None) -> None:
        self.database = database
        self.bin_dir = bin_dir or find_bin_dir()
        self.as_root = os.geteuid() == 0
        self.root_dir: Path | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The SQLAlchemy URL (psycopg 3 driver, trust authentication over TCP)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{self.database}"

    @property
    def data_dir(self) -> Path:
        assert self.root_dir is not None, "not started"
        return self.root_dir / "data"

    def _run(self, *args: str, server_side: bool = True) -> None:
        """Run a PostgreSQL program; server programs run as the ``postgres`` user when we are root."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if server_side and self.as_root:
            if shutil.which("runuser"):
                command = ["runuser", "-u", SERVICE_USER, "--", *command]
            else:
                command = ["su", SERVICE_USER, "-s", "/bin/sh", "-c", shlex.join(command)]
        # cwd: the postgres user may not be able to enter the caller's directory (e.g. under /root).
        done = subprocess.run(command, cwd=self.root_dir, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.root_dir / "server.log" if self.root_dir else None
            tail = log.read_text()[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}")

    def start(self) -> str:
        """initdb, configure, start on a free port, create the database; returns the URL."""
        if self.as_root:
            try:
                owner = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root and there is no '{SERVICE_USER}' system user to run PostgreSQL as "
                    "(initdb refuses root): run `make setup` (Debian's postgresql package creates it)"
                ) from None
        # /tmp as root: pytest's own temp dirs are private to root, and the server user must reach its directory.
        self.root_dir = Path(tempfile.mkdtemp(prefix="bokji-pg-", dir="/tmp" if self.as_root else None))
        try:
            if self.as_root:
                os.chown(self.root_dir, owner.pw_uid, owner.pw_gid)
            self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                      "--locale=C", "--no-sync", "--no-instructions")  # fmt: skip
            settings = {**SETTINGS, "unix_socket_directories": f"'{self.root_dir}'"}
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            for attempt in range(3):  # another process may take the free port before the server binds it
                self.port = free_port()
                try:
                    self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.root_dir / "server.log"),
                              "-o", f"-p {self.port}", "-w", "-t", "30")  # fmt: skip
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, self.database, server_side=False)
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Stop the server (immediately: nothing here needs to survive) and delete the cluster."""
        if self.root_dir is None:
            return
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            try:
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "30")
            except (RuntimeError, subprocess.TimeoutExpired):
                self._kill(pid_file)
        shutil.rmtree(self.root_dir, ignore_errors=True)
        self.root_dir = None

    @staticmethod
    def _kill(pid_file: Path) -> None:
        """Last resort when pg_ctl could not stop the server: end the postmaster this cluster started."""
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.1)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.stop()
