"""Start the real stack once per session through `bokji run` (the command `make run` uses)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.citizen_support import TEST_API_KEYS

ROOT = Path(__file__).resolve().parents[2]
# Fixed ports for the shared stack; BOKJI_TEST_PORT_OFFSET moves them (two checkouts testing on one machine).
_OFFSET = int(os.environ.get("BOKJI_TEST_PORT_OFFSET", "0"))
PORTS = {"rasa": 15005 + _OFFSET, "actions": 15055 + _OFFSET, "web": 18000 + _OFFSET}


SEED_INDEX = ROOT / "var" / "knowledge.sqlite3"


def copy_seed_index(target: Path) -> Path:
    """A private copy of the index `make setup` built, for tests that write to it (publishing, uploads)."""
    if not SEED_INDEX.exists():
        pytest.fail("no seed index: run `make setup` first")
    source, copy = sqlite3.connect(f"file:{SEED_INDEX}?mode=ro", uri=True), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return target


@dataclass
class RunningStack:
    web: str
    rasa: str
    actions: str
    data_dir: Path
    process: subprocess.Popen[str]
    rasa_token: str = ""  # Rasa's --auth-token (its HTTP API refuses requests without it)
    actions_token: str = ""  # the action server's shared secret (X-Bokji-Actions-Token)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_bokji_run(env: dict[str, str], ports: dict[str, int], log_path: Path, timeout_s: float) -> subprocess.Popen[str]:
    """`bokji run` on ``ports`` with ``env``, its output in ``log_path``; returns once it printed its URLs."""
    log = log_path.open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "bokji", "run",
         "--rasa-port", str(ports["rasa"]), "--actions-port", str(ports["actions"]), "--web-port", str(ports["web"])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while "Press Ctrl-C" not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the stack did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(1)
    return process


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    if not (ROOT / "bot" / "models" / "bokji.tar.gz").exists() or not (ROOT / "var" / "knowledge.sqlite3").exists():
        pytest.fail("no trained Rasa model or knowledge index: run `make setup` first")
    data_dir = tmp_path_factory.mktemp("data")
    # The stack answers from a copy of the knowledge index: tests that publish through the admin change the
    # copy, never the index `make setup` built.
    store = copy_seed_index(data_dir / "knowledge.sqlite3")
    # These tests check what the stack does with a model answer (streaming, grounding, transcripts), not how
    # fast the CPU is: a slow build box (24 prompt tokens/s on one thread measured on one) misses the 15 s
    # default deadline before the first token. The deadline, and the waits that must exceed it, are raised
    # here; `make bench-answers` and `make bench-streaming` measure speed with the defaults.
    env = dict(
        os.environ,
        BOKJI_DATA_DIR=str(data_dir),
        BOKJI_KNOWLEDGE__STORE__PATH=str(store),
        PYTHONUNBUFFERED="1",
        BOKJI_KNOWLEDGE__LLM__TIMEOUT_S="45",
        BOKJI_RASA_TIMEOUT_S="70",
        BOKJI_WIDGET__STREAM_TIMEOUT_S="75",
        BOKJI_STREAM_IDLE_TIMEOUT_S="75",
        # The secrets `bokji run` would make, chosen here so tests can use Rasa's API and the action server too.
        BOKJI_RASA_TOKEN=secrets.token_urlsafe(32),
        BOKJI_ACTIONS_TOKEN=secrets.token_urlsafe(32),
        # Every test reaches the stack from 127.0.0.1: per-address budgets sized for one citizen would count
        # the whole suite as one flooder. Per-conversation limits stay at their defaults.
        BOKJI_RATE_LIMIT__PER_CLIENT="100000/minute",
        BOKJI_RATE_LIMIT__HANDOFFS="100000/hour",
        BOKJI_RATE_LIMIT__LOGIN="100000/minute",
        BOKJI_RATE_LIMIT__SESSIONS="100000/hour",
        # /api/v1/chat answers integrations with a key: the tests' own (tests/citizen_support.py).
        BOKJI_API_KEYS=TEST_API_KEYS,
    )
    process = start_bokji_run(env, PORTS, data_dir / "run.log", timeout_s=960)  # bokji run itself waits up to 900 s
    running = RunningStack(
        web=f"http://127.0.0.1:{PORTS['web']}",
        rasa=f"http://127.0.0.1:{PORTS['rasa']}",
        actions=f"http://127.0.0.1:{PORTS['actions']}",
        data_dir=data_dir,
        process=process,
        rasa_token=env["BOKJI_RASA_TOKEN"],
        actions_token=env["BOKJI_ACTIONS_TOKEN"],
    )
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        process.wait(timeout=90)
    output = (data_dir / "run.log").read_text()
    assert process.returncode == 0, output[-2000:]
    assert "stopped." in output
    assert all(_port_free(p) for p in PORTS.values()), "a process outlived Ctrl-C"


def reply_to(question: str) -> str:
    """What a citizen would type when the bot asks something back (the real bot may run a short form)."""
    if "나이" in question or "세이신가요" in question:
        return "66세예요"
    if "소득" in question:
        return "월 50만 원 정도예요"
    return "잘 모르겠어요"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a throw-away PostgreSQL server (tests/postgres.py), one per session, deleted afterwards."""
    from tests.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer()
        url = server.start()
    except PostgresUnavailable as missing:
        pytest.fail(str(missing))
    yield url
    server.stop()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (one per test module)."""
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: install it with `apt-get install -y chromium fonts-nanum` (make setup does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: `make setup` installs it from requirements/app.lock")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
