"""Answer welfare questions from the knowledge base."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.metrics import ActionMetrics, message_intent
from actions.render import utter_answer
from actions.streams import AnswerStreams
from knowledge.answering.chain import Turn, final_answer, history_from_events
from knowledge.answering.service import KnowledgeService
from knowledge.rules.crisis import crisis_reply, detect_crisis


class ActionAnswerWelfare(Action):
    """Answer from the curated FAQ, or say honestly that we cannot and offer a human."""

    def __init__(
        self,
        service: KnowledgeService,
        streams: AnswerStreams | None = None,
        metrics: ActionMetrics | None = None,
        budget_s: float | None = None,
    ) -> None:
        """Keep the shared answer service, the streams of answers being written (channels may stream) and the metrics.

        ``budget_s`` bounds how long a turn that does not stream waits for the model (None: the model's own
        deadline); a channel's ``answer_budget_s`` metadata may only shorten it.
        """
        self._service = service
        self._streams = streams
        self._metrics = metrics
        self._budget_s = budget_s

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_answer_welfare"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        """Answer the latest message."""
        text = tracker.latest_message.get("text") or ""
        # The web app checks every message before Rasa; this is for a Rasa reached some other way.
        if (crisis := detect_crisis(text)) is not None:
            reply = crisis_reply(crisis, self._service.helplines)
            utter_answer(dispatcher, reply, handoff={"reason": "crisis", "urgent": True}, crisis=crisis.kind)
            return []
        # The chain rewrites a follow-up ("그거 어디서 신청해요?") with the program the dialogue remembers,
        # or else from the earlier turns (it masks them).
        history = history_from_events(tracker.events)
        program = tracker.get_slot("program")
        metadata = tracker.latest_message.get("metadata") or {}
        intent = message_intent(tracker.latest_message)
        if self._streams is not None and metadata.get("stream") is True and self._streams.has_room():
            await self._answer_streaming(dispatcher, text, history, program, self._streams, intent)
            return []
        # The citizen waits for this turn: the model gets the channel's budget, then the extract comes at once.
        budget = self._budget(metadata)
        answer = await asyncio.to_thread(self._service.answer, text, history=history, program=program, budget_s=budget)
        if self._metrics is not None:
            self._metrics.observe(answer, intent)
        utter_answer(dispatcher, answer)
        return []

    def _budget(self, metadata: dict[str, Any]) -> float | None:
        """The channel's ``answer_budget_s`` when it is a positive number (never above the server's), else the server's."""
        asked = metadata.get("answer_budget_s")
        if isinstance(asked, int | float) and not isinstance(asked, bool) and asked > 0:
            return float(asked) if self._budget_s is None else min(float(asked), self._budget_s)
        return self._budget_s

    async def _answer_streaming(
        self,
        dispatcher: CollectingDispatcher,
        text: str,
        history: list[Turn],
        program: str | None,
        streams: AnswerStreams,
        intent: str,
    ) -> None:
        """FAQ and "not found" answers reply at once; a generated one replies with the id of its stream."""
        events = self._service.stream(text, history=history, program=program)
        if self._metrics is not None:
            events = self._metrics.watch(events, intent)
        first = await asyncio.to_thread(next, events)
        if first.kind == "generating" and (stream_id := streams.start(events)):
            dispatcher.utter_message(json_message={"stream": stream_id, "mode": "generated"})
            return
        # Not generated, or too many streams open: the whole answer, as for a channel that does not stream.
        answer, _ = await asyncio.to_thread(final_answer, itertools.chain([first], events))
        utter_answer(dispatcher, answer)
