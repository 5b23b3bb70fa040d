"""Publishing reaches the bot within 5 seconds, without a restart: measured against the real action server.

The action server runs alone (``python -m actions``) over a copy of the seed index; this test process plays
the web app: the knowledge admin's FaqService and Publisher write the same index file. After an admin
approves a changed answer, the action server's ``/assist/suggestions`` (the same search citizens' answers
use) must return the new text within 5 s; a rollback brings the old text back and an unpublish removes the
entry just as fast. The measured latencies are printed (``pytest -s``).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bokji.supervisor import stack_env
from channels.admin.faqs import FaqService
from channels.admin.publisher import Publisher
from channels.handoff import Actor, HandoffService
from channels.settings import AppSettings
from channels.store.database import Database
from channels.store.models import StaffUser
from channels.store.transcripts import TranscriptStore
from knowledge.ingestion.seed_files import load_faq_dir
from tests.integration.conftest import copy_seed_index

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "basic-pension-amount"
QUESTION = "기초연금 얼마 받을 수 있어요?"
NEW_ANSWER = "2026년 기초연금 기준연금액은 월 351,000원이에요. (게시 시간 측정용 새 답변)"
LIMIT_S = 5.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The action server alone over a copy of the seed index; yields its URL and the environment it runs with."""
    base = tmp_path_factory.mktemp("publish")
    store = copy_seed_index(base / "knowledge.sqlite3")
    port = _free_port()
    env = {
        **stack_env("127.0.0.1", (_free_port(), port, _free_port()), base / "data"),
        "BOKJI_KNOWLEDGE__STORE__PATH": str(store),
        "BOKJI_KNOWLEDGE__LLM__BACKEND": "none",  # suggestions need no model; start-up stays short
    }
    log = (base / "actions.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "actions"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the action server did not start:\n" + (base / "actions.log").read_text()[-3000:])
        time.sleep(0.5)
    try:
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=30)


def _suggested(url: str) -> list[str]:
    # the action server refuses callers without its secret; the URL carries it as Rasa's `token:` option would
    response = httpx.post(url, json={"text": QUESTION, "limit": 5}, timeout=10)
    response.raise_for_status()
    return [s["text"] for s in response.json()["suggestions"]]


def _seconds_until(check: Callable[[], bool], limit_s: float = 10.0) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > limit_s:
            return float("inf")
        time.sleep(0.05)
    return time.perf_counter() - started


def test_publish_rollback_and_unpublish_reach_the_action_server_within_5_seconds(
    world: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, env = world
    url = f"{base}/assist/suggestions?token={env['BOKJI_ACTIONS_TOKEN']}"
    for name in ("BOKJI_KNOWLEDGE__STORE__PATH", "BOKJI_KNOWLEDGE__LLM__BACKEND", "BOKJI_DATA_DIR"):
        monkeypatch.setenv(name, env[name])
    settings = AppSettings()
    database = Database(settings.database())
    database.upgrade()
    publisher = Publisher.from_settings(settings.knowledge)
    faqs = FaqService(
        database, publisher, settings.admin, HandoffService(database, TranscriptStore(database), settings.handoff).record
    )
    seed = next(e for e in load_faq_dir(settings.knowledge.seed_dir) if e.id == ENTRY)
    faqs.import_entries(None, [seed], publish=True)  # first setup; also loads the model in this process
    assert seed.answer in _suggested(url)
    with database.session() as session:
        user = StaffUser(username="park", display_name="박관리", role="admin", password_hash="x")
        session.add(user)
        session.flush()
        admin = Actor(user.id, user.display_name, "admin")

    detail = faqs.get(ENTRY)
    detail = faqs.save(admin, ENTRY, {**detail.entry, "answer": NEW_ANSWER}, detail.lock_version)
    started = time.perf_counter()
    faqs.approve(admin, ENTRY, detail.lock_version)
    publish_s = time.perf_counter() - started
    seen_s = _seconds_until(lambda: NEW_ANSWER in _suggested(url))
    published_s = publish_s + seen_s

    started = time.perf_counter()
    faqs.rollback(admin, ENTRY, 1)
    rolled_back_s = (time.perf_counter() - started) + _seconds_until(lambda: seed.answer in _suggested(url))

    started = time.perf_counter()
    faqs.unpublish(admin, ENTRY)
    gone_s = (time.perf_counter() - started) + _seconds_until(lambda: not {seed.answer, NEW_ANSWER} & set(_suggested(url)))

    print(  # noqa: T201
        f"\npublish-to-answer latency: published {published_s:.2f} s (index write {publish_s:.2f} s),"
        f" rolled back {rolled_back_s:.2f} s, unpublished {gone_s:.2f} s"
    )
    assert published_s < LIMIT_S, f"the new answer took {published_s:.2f} s to reach the action server"
    assert rolled_back_s < LIMIT_S, f"the rollback took {rolled_back_s:.2f} s"
    assert gone_s < LIMIT_S, f"unpublishing took {gone_s:.2f} s"
    database.dispose()
