"""A stand-in for Rasa's REST webhook, shared by the HTTP-layer tests (the real Rasa runs in tests/integration)."""

from __future__ import annotations

from typing import Any

from channels.rasa_client import RasaUnavailableError

SOURCE = {"title": "기초연금 안내", "url": "https://basicpension.mohw.go.kr", "updated_at": "2026-01-09"}
BUTTON = {"title": "기초연금 신청", "payload": "기초연금 어디서 신청해요?"}


class ScriptedRasa:
    """Answers like Rasa's REST webhook; records what it was sent; can be switched off."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False
        self.reply: list[dict[str, Any]] = [
            {"recipient_id": "x", "text": "2026년 기초연금은 월 349,700원이에요.", "buttons": [dict(BUTTON)]},
            {"recipient_id": "x", "custom": {"sources": [dict(SOURCE)], "mode": "faq"}},
        ]

    def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        if self.down:
            raise RasaUnavailableError("connection refused")
        self.sent.append((sender_id, text))
        return self.reply
