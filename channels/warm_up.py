"""Ready means warm: the web app sends real turns through Rasa and the action server before /healthz turns green.

Right after start the first citizen paid for every lazy first step (Rasa's first parse and policy run, the
action server's first call, this process's first masking and crisis check): 3.5 s and the KakaoTalk holding
reply instead of the answer (issue 15). A background thread sends FAQ questions under a throwaway sender
until one turn is as fast as a warm turn should be, erases that sender's tracker, and only then reports warm.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

from channels.rasa_client import DialogueEngine
from knowledge.rules.crisis import detect_crisis
from knowledge.rules.privacy import mask

logger = logging.getLogger(__name__)

# An everyday FAQ question: Rasa's NLU and policies, the action call, retrieval and the curated answer all run.
QUESTIONS = ("기초연금 얼마 받을 수 있어요?", "주거급여 신청은 어디서 해요?", "네식구 생계급여 최대 얼마 받을수있어요")


class WarmUp:
    """Warms the stack in a background thread; :attr:`warm` is True once a turn took under ``warm_turn_s``."""

    def __init__(
        self,
        engine: DialogueEngine,
        erase: Callable[[str], object] | None = None,
        *,
        warm_turn_s: float = 0.5,
        max_turns: int = 8,
        retry_s: float = 1.0,
    ) -> None:
        """Keep the engine and the tracker eraser; nothing runs until :meth:`start`.

        After ``max_turns`` turns that all answered but none fast enough (a busy machine), the stack is
        reported warm anyway: every lazy step has run by then.
        """
        self._engine = engine
        self._erase = erase
        self._warm_turn_s = warm_turn_s
        self._max_turns = max_turns
        self._retry_s = retry_s
        self._warm = threading.Event()
        self.turns: list[float] = []  # seconds each warm-up turn took, for /healthz

    @property
    def warm(self) -> bool:
        """Whether a real turn has gone through (and was fast, or enough turns ran)."""
        return self._warm.is_set()

    def start(self) -> None:
        """Begin warming in a daemon thread (it waits for Rasa and the action server to answer)."""
        threading.Thread(target=self._run, name="warm-up", daemon=True).start()

    def wait(self, timeout_s: float) -> bool:
        """Block until warm or ``timeout_s``; whether warm."""
        return self._warm.wait(timeout_s)

    def _run(self) -> None:
        sender = f"warmup-{secrets.token_hex(8)}"
        answered = 0
        while not self._warm.is_set():
            question = QUESTIONS[answered % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                # The web app's own first steps of a turn, then Rasa (parse, policies, the action server's answer).
                detect_crisis(question)
                replies = self._engine.send(sender, mask(question), None)
            except Exception as exc:  # noqa: BLE001 - Rasa or the action server still starting: try again shortly
                logger.debug("warm-up turn failed (%s); retrying", type(exc).__name__)
                time.sleep(self._retry_s)
                continue
            took = time.perf_counter() - started
            if not replies:  # Rasa up but the action server not yet: no answer came back
                time.sleep(self._retry_s)
                continue
            answered += 1
            self.turns.append(round(took, 3))
            if took <= self._warm_turn_s or answered >= self._max_turns:
                self._forget(sender)
                logger.info("warm after %d turns (last %.0f ms)", answered, took * 1000)
                self._warm.set()

    def _forget(self, sender: str) -> None:
        """Erase the warm-up conversation from Rasa's tracker store: it was nobody's."""
        if self._erase is None:
            return
        try:
            self._erase(sender)
        except Exception as exc:  # noqa: BLE001 - a leftover warm-up tracker is harmless; say so and go on
            logger.warning("could not erase the warm-up tracker: %s", type(exc).__name__)
