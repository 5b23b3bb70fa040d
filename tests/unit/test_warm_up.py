"""Ready means warm: /healthz is green only after a real turn went through Rasa and the action server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from channels.rasa_client import RasaUnavailableError
from channels.warm_up import WarmUp
from tests.unit.fakes import ScriptedRasa


class StartingRasa:
    """Refuses ``down`` calls (still starting), then answers, the first ``slow`` answers taking ``slow_s`` each."""

    def __init__(self, down: int, slow: int, slow_s: float = 0.3) -> None:
        self.down, self.slow, self.slow_s = down, slow, slow_s
        self.senders: list[str] = []

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.senders.append(sender_id)
        if self.down:
            self.down -= 1
            raise RasaUnavailableError("connection refused")
        if self.slow:
            self.slow -= 1
            time.sleep(self.slow_s)
        return [{"text": "기초연금은 ...", "custom": {"mode": "faq"}}]


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def test_warm_only_after_a_fast_real_turn_and_the_throwaway_tracker_is_erased() -> None:
    engine, erased = StartingRasa(down=2, slow=2), []
    warm_up = WarmUp(engine, erased.append, warm_turn_s=0.2, retry_s=0.01)
    assert not warm_up.warm
    warm_up.start()
    assert warm_up.wait(10)
    assert len(engine.senders) == 5  # 2 refused, 2 slow first turns, then a fast one
    assert len(warm_up.turns) == 3 and warm_up.turns[-1] < 0.2
    assert erased == [engine.senders[0]] and engine.senders[0].startswith("warmup-")


def test_a_busy_machine_is_warm_after_enough_answered_turns() -> None:
    warm_up = WarmUp(StartingRasa(down=0, slow=99, slow_s=0.05), warm_turn_s=0.001, max_turns=3, retry_s=0.01)
    warm_up.start()
    assert warm_up.wait(10) and len(warm_up.turns) == 3


def test_healthz_is_not_green_while_the_stack_is_cold(client: FlaskClient) -> None:
    client.application.extensions["bokji.warm_up"] = WarmUp(StartingRasa(down=99, slow=0))  # never started: cold
    body = client.get("/healthz").get_json()
    assert body["dependencies"]["warm"] == "down" and body["status"] == "degraded"
