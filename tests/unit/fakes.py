"""Stand-ins shared by the fast tests: Rasa's REST webhook and a scripted chat model (the real ones run in tests/integration)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from channels.rasa_client import RasaUnavailableError

SOURCE = {"title": "기초연금 안내", "url": "https://basicpension.mohw.go.kr", "updated_at": "2026-01-09"}
BUTTON = {"title": "기초연금 신청", "payload": "기초연금 어디서 신청해요?"}


class ScriptedRasa:
    """Answers like Rasa's REST webhook; records what it was sent; can be switched off."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.metadata: list[dict[str, Any] | None] = []
        self.down = False
        self.reply: list[dict[str, Any]] = [
            {"recipient_id": "x", "text": "2026년 기초연금은 월 349,700원이에요.", "buttons": [dict(BUTTON)]},
            {"recipient_id": "x", "custom": {"sources": [dict(SOURCE)], "mode": "faq"}},
        ]

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if self.down:
            raise RasaUnavailableError("connection refused")
        self.sent.append((sender_id, text))
        self.metadata.append(metadata)
        return self.reply


class ScriptedChat(BaseChatModel):
    """Replies from a script, a few characters per chunk, after ``delay_s``; records every prompt it was given.

    With ``error`` it fails after ``delay_s`` (a server that is down but only says so after a connect timeout).
    """

    replies: list[str] = []
    delay_s: float = 0.0
    error: str = ""
    seen: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.seen.append("\n".join(str(m.content) for m in messages))
        time.sleep(self.delay_s)
        if self.error:
            raise ConnectionError(self.error)
        reply = self.replies.pop(0) if self.replies else ""
        for i in range(0, len(reply), 3):
            yield ChatGenerationChunk(message=AIMessageChunk(content=reply[i : i + 3]))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, **kwargs))


class RecordingPublisher:
    """Stands in for the knowledge admin's publisher: records what would reach the search index (never the real one)."""

    def __init__(self) -> None:
        self.live: dict[str, Any] = {}
        self.documents: dict[str, Any] = {}

    def publish(self, entries: list[Any]) -> None:
        self.live.update({entry.id: entry for entry in entries})

    def unpublish(self, entry_ids: list[str]) -> None:
        for entry_id in entry_ids:
            self.live.pop(entry_id, None)

    def publish_document(self, document: Any, disabled_chunks: set[int]) -> int:
        self.documents[document.id] = document
        return len(document.sections)

    def remove_document(self, doc_id: str) -> None:
        self.documents.pop(doc_id, None)

    def warm_up_in_background(self) -> None:
        """Nothing to load."""
