"""The conversation flow every channel shares: mask, record, ask Rasa, shape the reply, hand off.

Channels differ only in how they parse requests and render replies; everything between lives here.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from channels.answer_streams import AnswerStreamSource, StreamUnavailableError
from channels.handoff import HandoffService, HandoffView
from channels.office_hours import korean_moment
from channels.rasa_client import DialogueEngine, RasaUnavailableError
from channels.store.transcripts import TranscriptStore
from knowledge.answering.streaming import EventLog, produce_in_background
from knowledge.domain.helpline import Helpline
from knowledge.domain.source import document_location
from knowledge.rules.crisis import Crisis, crisis_reply, detect_crisis
from knowledge.rules.privacy import mask

logger = logging.getLogger(__name__)

# What a streamed answer's turn says until its final text is recorded (also what history shows meanwhile).
STREAM_PLACEHOLDER = "답변을 작성하고 있어요. 잠시만 기다려 주세요."
# What it says if the web app stopped before the answer was recorded.
STREAM_ABANDONED = "죄송해요. 이 답변은 끝까지 작성하지 못했어요. 같은 질문을 다시 보내 주세요."
# What Rasa is told in place of a crisis message: its rules stop an open form on this intent.
CRISIS_NOTICE = "/crisis"
# The quick reply that stops waiting for a person (handled here, never sent to Rasa).
CANCEL_HANDOFF = "/cancel_handoff"


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
    def stream_id(self) -> str | None:
        """The id of the answer stream this placeholder stands for (a generated answer still being written)."""
        value = self.meta.get("stream")
        return value if isinstance(value, str) and value else None

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

    def record_meta(self, degraded: bool | None = None) -> dict[str, Any]:
        """What the transcript keeps next to the text, enough to show the message again (:meth:`from_record`).

        ``degraded`` overrides the meta's own flag; None keeps the meta as it is.
        """
        recorded = {
            **self.meta,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "sources": [dict(s) for s in self.sources],
        }
        if degraded is not None:
            recorded["degraded"] = degraded
        return recorded

    @classmethod
    def from_record(cls, turn: dict[str, Any]) -> BotMessage:
        """A bot turn from the transcript as the message it was."""
        meta = dict(turn.get("meta") or {})
        buttons = tuple(
            Button(str(b["title"]), str(b.get("payload", b["title"])))
            for b in meta.pop("buttons", None) or []
            if isinstance(b, dict) and b.get("title")
        )
        sources = _sources(meta.pop("sources", None))
        return cls(str(turn["text"]), buttons, sources, meta, turn.get("id"))


@dataclass(frozen=True)
class StreamUpdate:
    """A step of an answer being written: checked text to ``delta``, a ``reset``, or the ``final`` message."""

    kind: Literal["delta", "reset", "final"]
    text: str = ""
    message: BotMessage | None = None
    degraded: bool = False


@dataclass(frozen=True)
class ChatReply:
    """Everything the bot answered to one citizen message.

    ``streams`` maps the turn id of each placeholder message (one with a ``stream_id``) to the updates
    of its answer; the transcript gets the final text whether or not anyone reads them.
    """

    messages: tuple[BotMessage, ...]
    degraded: bool = False
    streams: dict[int, EventLog[StreamUpdate]] = field(default_factory=dict)


def _source(raw: Any) -> dict[str, str] | None:
    """A source as every channel shows it: title, url, the date it was last checked, and where in a document.

    ``location`` ("3쪽 · 2. 지원 대상") is made from the page and heading the action server sends for a
    document passage (kept as is when the transcript already has it); FAQ sources have none.
    """
    if not isinstance(raw, dict) or not raw.get("title"):
        return None
    source = {"title": str(raw["title"]), "url": str(raw.get("url") or ""), "updated_at": str(raw.get("updated_at") or "")}
    location = raw.get("location") or _location(raw.get("page"), raw.get("heading"))
    if location:
        source["location"] = str(location)
    return source


def _sources(raw: Any) -> tuple[dict[str, str], ...]:
    """The sources of a payload or transcript record that can be shown (those with a title)."""
    return tuple(s for s in map(_source, raw if isinstance(raw, list) else []) if s)


def _location(page: Any, heading: Any) -> str:
    """Where in a document ("3쪽 · 2. 지원 대상"); a page that is not a whole number is left out."""
    number = page if isinstance(page, int) and not isinstance(page, bool) and page > 0 else None
    return document_location(number, str(heading or ""))


def from_rasa(raw: list[dict[str, Any]]) -> tuple[BotMessage, ...]:
    """Rasa's REST output to bot messages: a ``custom`` payload belongs to the text before it.

    A payload that carries the whole ``text`` joins the parts Rasa split it into at blank lines
    (its REST channel does that to texts without buttons), so an answer stays one message with its sources.
    """
    messages: list[BotMessage] = []
    for item in raw:
        custom = item.get("custom")
        if isinstance(custom, dict) and custom.get("stream"):  # a generated answer still being written
            messages.append(BotMessage(text="", meta=dict(custom)))
        elif item.get("text"):
            buttons = tuple(
                Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in item.get("buttons") or [] if b.get("title")
            )
            messages.append(BotMessage(text=str(item["text"]), buttons=buttons))
        elif isinstance(custom, dict) and messages:
            sources = _sources(custom.get("sources"))
            meta = {k: v for k, v in custom.items() if k not in ("sources", "text")}
            _join_split_parts(messages, custom.get("text"))
            last = messages[-1]
            messages[-1] = BotMessage(last.text, last.buttons, last.sources + sources, {**last.meta, **meta})
    return tuple(messages)


def _final_update(updates: EventLog[StreamUpdate], timeout_s: float) -> BotMessage | None:
    """The final message of a streamed answer, waiting for it (None if it never came)."""
    try:
        return next((u.message for u in updates.follow(timeout_s) if u.kind == "final"), None)
    except TimeoutError:
        return None


def _join_split_parts(messages: list[BotMessage], whole: Any) -> None:
    """Replace the last messages by one when they are ``whole`` split at blank lines (as Rasa's REST channel does)."""
    if not isinstance(whole, str):
        return
    parts = [part for part in whole.strip().split("\n\n") if part]  # from_rasa skips empty texts
    if len(parts) > 1 and len(messages) >= len(parts) and [m.text for m in messages[-len(parts) :]] == parts:
        last = messages[-1]
        del messages[-len(parts) :]
        messages.append(BotMessage(whole.strip(), last.buttons, last.sources, last.meta))


class Conversation:
    """One citizen message in, the bot's reply out; transcripts and handoffs recorded on the way."""

    def __init__(
        self,
        engine: DialogueEngine,
        transcripts: TranscriptStore,
        helplines: dict[str, Helpline],
        streams: AnswerStreamSource | None = None,
        stream_timeout_s: float = 45.0,
        handoffs: HandoffService | None = None,
        writer: str = "",
    ) -> None:
        """Wire the dialogue engine (Rasa), the transcripts, the helplines, the answer streams and the handoffs.

        Without ``streams`` no channel can stream: Rasa is never asked to. Without ``handoffs`` (tests of
        the answer flow alone) a handoff request is only recorded in the bot message's meta. ``writer`` names
        this web process in the placeholders of streamed answers, so its successor knows which it left unfinished.
        """
        self._engine = engine
        self._transcripts = transcripts
        self.handoffs = handoffs
        self._helplines = helplines
        self._streams = streams
        self._stream_timeout_s = stream_timeout_s
        self._writer = writer

    def handle(self, sender_id: str, text: str, label: str | None = None, *, stream: bool = False) -> ChatReply:
        """Process a citizen message (personal data is masked before it goes anywhere).

        ``label`` is what the citizen saw when the text is a quick reply's payload (``/request_human`` is
        shown as 상담원 연결); the transcript keeps it so history reads as the conversation looked.
        With ``stream``, a generated answer comes back as a placeholder plus its updates in
        :attr:`ChatReply.streams`; without, every message is complete. A crisis is answered here, before
        Rasa, whatever the dialogue state (:meth:`_answer_crisis`).
        """
        masked = mask(text)
        shown = mask(label) if label and label != text else None
        self._transcripts.add_turn(sender_id, "citizen", masked, {"label": shown} if shown else None)
        if (crisis := detect_crisis(text)) is not None:
            return self._answer_crisis(sender_id, crisis)
        if (held := self._held_for_a_person(sender_id, text)) is not None:
            return held
        if (disliked := self._repeated_after_thumbs_down(sender_id, masked)) is not None:
            return disliked
        degraded = False
        streaming = stream and self._streams is not None
        try:
            messages = from_rasa(self._engine.send(sender_id, masked, {"stream": True} if streaming else None))
        except RasaUnavailableError as exc:
            logger.error("dialogue engine unavailable for %s: %s", sender_id, exc)
            messages, degraded = (self._offline_reply(masked),), True
        if not messages:
            messages = (self._offline_reply(masked),)
            degraded = True
        recorded: list[BotMessage] = []
        streams: dict[int, EventLog[StreamUpdate]] = {}
        for message in messages:
            if message.stream_id is not None:
                message = replace(message, text=STREAM_PLACEHOLDER, meta={**message.meta, "writer": self._writer})
            turn_id = self._transcripts.add_turn(sender_id, "bot", message.text, message.record_meta(degraded))
            message = replace(message, turn_id=turn_id)
            if message.stream_id is not None:
                updates: EventLog[StreamUpdate] = EventLog()
                failed = functools.partial(self._fail_stream, sender_id, message, masked)
                produce_in_background(self._follow(sender_id, message, masked), updates, failed, name="answer-follow")
                if not streaming:  # nobody reads the updates: wait for the final message
                    message = _final_update(updates, self._stream_timeout_s) or message
                else:
                    streams[turn_id] = updates
            recorded.append(message)
            if message.stream_id is None:
                recorded.extend(self._record_handoff(sender_id, message))
        if not any(m.handoff for m in recorded) and not degraded:
            recorded.extend(self._after_unanswered(sender_id))
        return ChatReply(messages=tuple(recorded), degraded=degraded, streams=streams)

    def _follow(self, sender_id: str, placeholder: BotMessage, text: str) -> Iterator[StreamUpdate]:
        """Relay a streamed answer's checked text, then record its final message in place of the placeholder."""
        assert self._streams is not None and placeholder.stream_id is not None
        final: BotMessage | None = None
        try:
            for event in self._streams.events(placeholder.stream_id):
                kind = event.get("event")
                if kind == "delta" and isinstance(event.get("text"), str):
                    yield StreamUpdate("delta", text=event["text"])
                elif kind == "reset":
                    yield StreamUpdate("reset")
                elif kind == "final":
                    rasa_shape = [{"text": event.get("text"), "buttons": event.get("buttons")}, {"custom": event.get("custom")}]
                    final = next(iter(from_rasa(rasa_shape)), None)
                    break
                elif kind == "error":
                    break
        except StreamUnavailableError as exc:
            logger.error("answer stream for %s failed: %s", sender_id, exc)
        if final is None:
            yield self._fail_stream(sender_id, placeholder, text)
            return
        yield self._complete(sender_id, replace(final, turn_id=placeholder.turn_id), degraded=False)

    def _fail_stream(self, sender_id: str, placeholder: BotMessage, text: str, exc: BaseException | None = None) -> StreamUpdate:
        """End a stream that broke off with the apology of an unavailable bot, recorded in place of the placeholder."""
        if exc is not None:
            logger.error("following the answer stream for %s failed: %s", sender_id, exc)
        return self._complete(sender_id, replace(self._offline_reply(text), turn_id=placeholder.turn_id), degraded=True)

    def _complete(self, sender_id: str, message: BotMessage, *, degraded: bool) -> StreamUpdate:
        assert message.turn_id is not None
        self._transcripts.complete_turn(message.turn_id, message.text, message.record_meta(degraded))
        self._record_handoff(sender_id, message)  # its notice reaches the widget through live updates and history
        return StreamUpdate("final", message=message, degraded=degraded)

    def _record_handoff(self, sender_id: str, message: BotMessage) -> list[BotMessage]:
        """Queue the chat when ``message`` asks for a person; returns the notice that says what happens next."""
        if message.handoff is None or self.handoffs is None:
            return []
        return self._queue(sender_id, str(message.handoff.get("reason", "requested")), bool(message.handoff.get("urgent")))

    def _queue(self, sender_id: str, reason: str, urgent: bool, lead: str = "") -> list[BotMessage]:
        assert self.handoffs is not None
        view, created = self.handoffs.request(sender_id, reason, urgent)
        if not created and not lead:
            return []
        notice = self._queued_notice(view, lead)
        turn_id = self._transcripts.add_turn(sender_id, "bot", notice.text, notice.record_meta(False))
        return [replace(notice, turn_id=turn_id)]

    def _queued_notice(self, view: HandoffView, lead: str = "") -> BotMessage:
        """What happens next, honestly: the place in the queue when someone is on duty, else when and 129."""
        assert self.handoffs is not None
        line = self._helplines["welfare_call_center"]
        meanwhile = f"급하시면 {line.name}({line.number}, {line.hours})로 전화해 주세요."
        kakao = view.channel == "kakao"
        delivery = (
            "상담원의 답은 다음에 메시지를 보내실 때 이 채팅방에서 전해 드려요."
            if kakao
            else "상담원이 들어오면 이 창에서 바로 알려 드릴게요."
        )
        if self.handoffs.on_duty():
            body = f"상담원 연결을 요청했어요. 지금 대기 {self.handoffs.position(view.id)}번째예요. {delivery}"
        else:
            hours = self.handoffs.hours
            opening = hours.next_opening(datetime.now(timezone.utc))
            when = f"{korean_moment(opening, hours.zone)}부터 " if opening else ""
            closed = (
                "지금은 상담 시간이 아니에요"
                if not hours.is_open(datetime.now(timezone.utc))
                else "지금은 바로 답해 드릴 상담원이 없어요"
            )
            body = (
                f"{closed}(상담 시간: {hours.describe()}). {when}차례대로 답해 드릴게요. "
                f"남기신 대화는 대기 목록에 그대로 있어요. {delivery if kakao else ''}{' ' if kakao else ''}{meanwhile}"
            )
        text = f"{lead} {body}".strip()
        buttons = () if view.urgent else (Button("대기 취소하고 챗봇과 계속하기", CANCEL_HANDOFF),)
        return BotMessage(
            text, buttons, _sources([line.as_source().model_dump()]), {"mode": "handoff", "handoff_state": "waiting"}
        )

    def _held_for_a_person(self, sender_id: str, text: str) -> ChatReply | None:
        """While a person has or is about to take the chat, the bot stays silent (the web app holds Rasa back).

        Returns None when the bot should answer. A citizen waiting may cancel (:data:`CANCEL_HANDOFF`).
        """
        if self.handoffs is None:
            return None
        view = self.handoffs.active(sender_id)
        if text.strip() == CANCEL_HANDOFF:
            if view is not None and view.state == "waiting" and self.handoffs.cancel(sender_id) is not None:
                last = self._transcripts.recent_turns(sender_id, 1)
                return ChatReply(messages=tuple(BotMessage.from_record(t) for t in last))
            if view is None:
                return self._say(sender_id, "기다리고 있는 상담원 연결 요청이 없어요. 궁금한 점을 편하게 물어봐 주세요.")
        if view is None:
            return None
        if view.state == "with_agent":
            return ChatReply(messages=())  # the agent sees the message live and answers it
        if view.urgent:  # a crisis: the queue is not offered a way out, and the phone line comes first
            line = self._helplines["welfare_call_center"]
            return self._say(
                sender_id,
                "상담원 연결을 기다리고 있어요. 남기신 메시지는 상담원이 함께 봐요. "
                f"기다리기 어려우시면 {line.name}({line.number}, {line.hours})로 바로 전화해 주세요.",
            )
        return self._say(
            sender_id,
            "상담원 연결을 기다리고 있어요. 남기신 메시지는 상담원이 함께 봐요.",
            (Button("대기 취소하고 챗봇과 계속하기", CANCEL_HANDOFF),),
        )

    def _say(self, sender_id: str, text: str, buttons: tuple[Button, ...] = ()) -> ChatReply:
        message = BotMessage(text, buttons, meta={"mode": "handoff"})
        turn_id = self._transcripts.add_turn(sender_id, "bot", text, message.record_meta(False))
        return ChatReply(messages=(replace(message, turn_id=turn_id),))

    def _repeated_after_thumbs_down(self, sender_id: str, masked: str) -> ChatReply | None:
        """A 👎 on an answer, then the same question again: a person takes it instead of the same answer."""
        if self.handoffs is None:
            return None
        turns = self._transcripts.recent_turns(sender_id, 8)[:-1]  # the message just recorded is last
        rated = next((i for i in range(len(turns) - 1, -1, -1) if turns[i]["role"] == "bot" and turns[i]["feedback"]), None)
        if rated is None or turns[rated]["feedback"] != "down":
            return None
        asked = next((t for t in reversed(turns[:rated]) if t["role"] == "citizen"), None)
        if asked is None or not same_question(asked["text"], masked):
            return None
        lead = "앞의 답변이 도움이 되지 않으셨군요. 상담원에게 연결해 드릴게요."
        return ChatReply(messages=tuple(self._queue(sender_id, "disliked", False, lead)))

    def _after_unanswered(self, sender_id: str) -> list[BotMessage]:
        """Call a person after the bot could not answer several times in a row (a setting, 2 by default)."""
        if self.handoffs is None:
            return []
        needed = self.handoffs.settings.unanswered_in_a_row
        answers = [t for t in self._transcripts.recent_turns(sender_id, 4 * needed) if t["role"] == "bot"]
        answers = [t for t in answers if t["meta"].get("mode") not in ("handoff", "unavailable")][-needed:]
        if len(answers) < needed or not all(_unanswered(t["meta"]) for t in answers):
            return []
        lead = "제가 찾을 수 있는 답이 없어서 상담원에게 연결해 드릴게요."
        return self._queue(sender_id, "unanswered", False, lead)

    def _answer_crisis(self, sender_id: str, crisis: Crisis) -> ChatReply:
        """A crisis in any dialogue state: its helplines first, an urgent handoff, and any open form stopped.

        The message itself does not go to Rasa: nothing Rasa adds is worth a moment's delay, and a form must
        not read "죽고 싶어요" as an answer. Rasa gets :data:`CRISIS_NOTICE` instead, in the background (its
        reply unused, Rasa being down changes nothing here), so an open form ends as the README promises.
        """
        message = self._crisis_message(crisis)
        turn_id = self._transcripts.add_turn(sender_id, "bot", message.text, message.record_meta(False))
        notices = self._record_handoff(sender_id, message)
        # In the turn's context: the notice reaches Rasa (and its log lines) under the turn's request id.
        notify = functools.partial(contextvars.copy_context().run, self._notify_rasa, sender_id)
        threading.Thread(target=notify, name="crisis-notice", daemon=True).start()
        return ChatReply(messages=(replace(message, turn_id=turn_id), *notices))

    def _notify_rasa(self, sender_id: str) -> None:
        try:
            self._engine.send(sender_id, CRISIS_NOTICE)
        except RasaUnavailableError as exc:
            logger.warning("could not tell the dialogue engine about a crisis for %s: %s", sender_id, exc)

    def _crisis_message(self, crisis: Crisis) -> BotMessage:
        """The crisis reply for its kind, flagged for an urgent handoff."""
        answer = crisis_reply(crisis, self._helplines)
        return BotMessage(
            answer.text,
            sources=_sources([x.model_dump() for x in answer.sources]),
            meta={"mode": "none", "crisis": crisis.kind, "handoff": {"reason": "crisis", "urgent": True}},
        )

    def fallback_reply(self, text: str) -> ChatReply:
        """The reply when the flow itself failed (nothing recorded): an apology, or helplines in a crisis."""
        return ChatReply(messages=(self._offline_reply(mask(text)),), degraded=True)

    def _offline_reply(self, text: str) -> BotMessage:
        """What to say when Rasa cannot answer: helplines first in a crisis, else an apology and 129."""
        if (crisis := detect_crisis(text)) is not None:
            return self._crisis_message(crisis)
        line = self._helplines["welfare_call_center"]
        return BotMessage(
            text=(
                "죄송해요. 지금 답변 시스템에 잠시 문제가 있어 답을 드리지 못했어요. "
                f"잠시 후 다시 보내 주시거나 {line.name}({line.number}, {line.hours})로 문의해 주세요."
            ),
            buttons=(Button("다시 보내기", text),),
            sources=_sources([line.as_source().model_dump()]),
            meta={"mode": "unavailable"},
        )


def _unanswered(meta: dict[str, Any]) -> bool:
    """A bot answer that found nothing (mode none), not a crisis reply nor a handoff notice."""
    return meta.get("mode") == "none" and not meta.get("crisis") and not meta.get("handoff")


def same_question(first: str, second: str) -> bool:
    """Two messages ask the same thing: equal once spaces and punctuation go, or sharing most character pairs."""
    a, b = (re.sub(r"[\s\W_]+", "", t.lower()) for t in (first, second))
    if not a or not b:
        return False
    if a == b:
        return True
    pairs_a, pairs_b = ({t[i : i + 2] for i in range(len(t) - 1)} for t in (a, b))
    if not pairs_a or not pairs_b:
        return False
    return len(pairs_a & pairs_b) / len(pairs_a | pairs_b) >= 0.6
