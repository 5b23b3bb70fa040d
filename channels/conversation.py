"""The conversation flow every channel shares: mask, record, ask Rasa, shape the reply, hand off.

Channels differ only in how they parse requests and render replies; everything between lives here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from channels.rasa_client import DialogueEngine, RasaUnavailableError
from channels.transcripts import TranscriptStore
from knowledge.documents import Helpline
from knowledge.privacy import mask
from knowledge.safety import crisis_reply, is_crisis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Button:
    """A quick reply: what the citizen sees and what is sent when pressed."""

    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One bot message with its quick replies and sources."""

    text: str
    buttons: tuple[Button, ...] = ()
    sources: tuple[dict[str, str], ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    turn_id: int | None = None

    @property
    def handoff(self) -> dict[str, Any] | None:
        """The handoff request this message carries, if any."""
        value = self.meta.get("handoff")
        return value if isinstance(value, dict) else None

    def as_json(self) -> dict[str, Any]:
        """The public API shape of a message."""
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "sources": [dict(s) for s in self.sources],
        }

    def record_meta(self, degraded: bool) -> dict[str, Any]:
        """What the transcript keeps next to the text, enough to show the message again later."""
        return {
            **self.meta,
            "degraded": degraded,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "sources": [dict(s) for s in self.sources],
        }

    @classmethod
    def from_record(cls, turn: dict[str, Any]) -> BotMessage:
        """A bot turn from the transcript as the message it was."""
        meta = dict(turn.get("meta") or {})
        buttons = tuple(
            Button(str(b["title"]), str(b.get("payload", b["title"])))
            for b in meta.pop("buttons", None) or []
            if isinstance(b, dict) and b.get("title")
        )
        sources = tuple(s for s in map(_source, meta.pop("sources", None) or []) if s)
        return cls(str(turn["text"]), buttons, sources, meta, turn.get("id"))


@dataclass(frozen=True)
class ChatReply:
    """Everything the bot answered to one citizen message."""

    messages: tuple[BotMessage, ...]
    degraded: bool = False


def _source(raw: Any) -> dict[str, str] | None:
    """A source as every channel shows it: title, url and the date it was last checked."""
    if not isinstance(raw, dict) or not raw.get("title"):
        return None
    return {"title": str(raw["title"]), "url": str(raw.get("url", "")), "updated_at": str(raw.get("updated_at", ""))}


def from_rasa(raw: list[dict[str, Any]]) -> tuple[BotMessage, ...]:
    """Rasa's REST output to bot messages: a ``custom`` payload belongs to the text before it."""
    messages: list[BotMessage] = []
    for item in raw:
        if item.get("text"):
            buttons = tuple(
                Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in item.get("buttons") or [] if b.get("title")
            )
            messages.append(BotMessage(text=str(item["text"]), buttons=buttons))
        elif isinstance(item.get("custom"), dict) and messages:
            custom = item["custom"]
            sources = tuple(s for s in map(_source, custom.get("sources") or []) if s)
            meta = {k: v for k, v in custom.items() if k != "sources"}
            last = messages[-1]
            messages[-1] = BotMessage(last.text, last.buttons, last.sources + sources, {**last.meta, **meta})
    return tuple(messages)


class Conversation:
    """One citizen message in, the bot's reply out; transcripts and handoffs recorded on the way."""

    def __init__(self, engine: DialogueEngine, transcripts: TranscriptStore, helplines: dict[str, Helpline]) -> None:
        """Wire the dialogue engine (Rasa), the transcript database and the helplines."""
        self._engine = engine
        self._transcripts = transcripts
        self._helplines = helplines

    def handle(self, sender_id: str, text: str, label: str | None = None) -> ChatReply:
        """Process a citizen message (personal data is masked before it goes anywhere).

        ``label`` is what the citizen saw when the text is a quick reply's payload (``/request_human`` is
        shown as 상담원 연결); the transcript keeps it so history reads as the conversation looked.
        """
        masked = mask(text)
        shown = mask(label) if label and label != text else None
        self._transcripts.add_turn(sender_id, "citizen", masked, {"label": shown} if shown else None)
        degraded = False
        try:
            messages = from_rasa(self._engine.send(sender_id, masked))
        except RasaUnavailableError as exc:
            logger.error("dialogue engine unavailable for %s: %s", sender_id, exc)
            messages, degraded = (self._offline_reply(masked),), True
        if not messages:
            messages = (self._offline_reply(masked),)
            degraded = True
        recorded = []
        for message in messages:
            turn_id = self._transcripts.add_turn(sender_id, "bot", message.text, message.record_meta(degraded))
            recorded.append(replace(message, turn_id=turn_id))
            if message.handoff is not None:
                self._transcripts.open_handoff(
                    sender_id, str(message.handoff.get("reason", "requested")), bool(message.handoff.get("urgent"))
                )
        return ChatReply(messages=tuple(recorded), degraded=degraded)

    def fallback_reply(self, text: str) -> ChatReply:
        """The reply when the flow itself failed (nothing recorded): an apology, or helplines in a crisis."""
        return ChatReply(messages=(self._offline_reply(mask(text)),), degraded=True)

    def _offline_reply(self, text: str) -> BotMessage:
        """What to say when Rasa cannot answer: helplines first in a crisis, else an apology and 129."""
        if is_crisis(text):
            answer = crisis_reply(self._helplines)
            return BotMessage(
                answer.text,
                sources=tuple(s.model_dump() for s in answer.sources),
                meta={"mode": "none", "handoff": {"reason": "crisis", "urgent": True}},
            )
        line = self._helplines["welfare_call_center"]
        return BotMessage(
            text=(
                "죄송해요. 지금 답변 시스템에 잠시 문제가 있어 답을 드리지 못했어요. "
                f"잠시 후 다시 보내 주시거나 {line.name}({line.number}, {line.hours})로 문의해 주세요."
            ),
            buttons=(Button("다시 보내기", text),),
            sources=(line.as_source().model_dump(),),
            meta={"mode": "unavailable"},
        )
