"""Ready means warm: right after `bokji run` reports healthy, the first KakaoTalk question is answered at once.

Issue 15 measured 3.53 s and the holding reply for the first question after start (0.18 s a minute later).
This test starts its own stack (the shared one has long served other tests by the time any test runs).
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

import httpx
import pytest

from channels.kakao_delivery import HOLDING
from tests.integration.conftest import PORTS, ROOT, copy_seed_index, start_bokji_run

# Beside the shared stack's ports (BOKJI_TEST_PORT_OFFSET moves both).
WARM_PORTS = {name: port + 40 for name, port in PORTS.items()}
FIRST_TURN_BOUND_S = 1.5


def kakao(web: str, token: str, user: str, text: str) -> tuple[float, str]:
    body = {"userRequest": {"utterance": text, "user": {"id": user, "type": "botUserKey", "properties": {}}}}
    started = time.perf_counter()
    response = httpx.post(f"{web}/kakao/skill/{token}", json=body, timeout=10)
    took = time.perf_counter() - started
    assert response.status_code == 200
    outputs = response.json()["template"]["outputs"]
    return took, " ".join(str(o.get("simpleText", {}).get("text") or o) for o in outputs)


def test_the_first_question_after_healthy_is_answered_as_fast_as_later_ones(tmp_path: Path) -> None:
    if not (ROOT / "bot" / "models" / "bokji.tar.gz").exists():
        pytest.fail("no trained Rasa model: run `make setup` first")
    token = secrets.token_urlsafe(24)
    env = dict(
        os.environ,
        BOKJI_DATA_DIR=str(tmp_path),
        BOKJI_KNOWLEDGE__STORE__PATH=str(copy_seed_index(tmp_path / "knowledge.sqlite3")),
        BOKJI_KAKAO__TOKEN=token,
        PYTHONUNBUFFERED="1",
    )
    process = start_bokji_run(env, WARM_PORTS, tmp_path / "run.log", timeout_s=420)
    web = f"http://127.0.0.1:{WARM_PORTS['web']}"
    try:
        first, text = kakao(web, token, "warm-first", "기초연금 최대 얼마까지 받을 수 있어요?")
        assert HOLDING not in text and "349,700원" in text, text
        later = sorted(kakao(web, token, f"warm-{n}", "주거급여 신청은 어디서 해요?")[0] for n in range(5))
        # As fast as the rest: within the bound, or (on a machine busy with other work) within twice a later turn.
        bound = max(FIRST_TURN_BOUND_S, 2 * later[len(later) // 2])
        assert first < bound, f"first turn {first:.2f} s, later turns {[round(t, 2) for t in later]} s"
        health = httpx.get(f"{web}/healthz", timeout=10).json()
        assert health["dependencies"]["warm"] == "up"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)
