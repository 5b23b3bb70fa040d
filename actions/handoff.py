"""Hand the conversation to a human: on request, and first of all in a crisis."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.render import utter_answer
from knowledge.domain.answer import Answer
from knowledge.domain.helpline import Helpline
from knowledge.rules.crisis import check_in_reply, crisis_reply, detect_crisis


def handoff_answer(helplines: dict[str, Helpline]) -> Answer:
    """What the citizen reads when a human takes over (the fallback number from its source)."""
    line = helplines["welfare_call_center"]
    text = (
        "상담원에게 연결해 드릴게요. 지금까지 나눈 대화는 상담원이 함께 보고 이어서 도와드려요. "
        f"기다리기 어려우시면 {line.name}({line.number}, {line.hours})로 전화하셔도 돼요."
    )
    return Answer(text=text, sources=(line.as_source(),), confidence=1.0, mode="none")


class ActionRequestHuman(Action):
    """The citizen asked for a person: flag the chat for the staff console."""

    def __init__(self, helplines: dict[str, Helpline]) -> None:
        """Keep the helplines the message names."""
        self._helplines = helplines

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        """Tell the citizen what happens next and flag the handoff for the channel."""
        utter_answer(dispatcher, handoff_answer(self._helplines), handoff={"reason": "requested"})
        return []


class ActionCrisisSupport(Action):
    """The NLU saw a crisis: if the crisis phrases agree, its kind's helplines first and an urgent handoff.

    Only :func:`detect_crisis` raises an urgent handoff: on the crisis evaluation set the classifier's crisis
    intent fired on 41 of 138 look-alikes ("웃겨 죽겠어") and missed 54 of 184 crises, while the phrases
    caught all and raised none. When they disagree the citizen gets a gentle check-in with 109 and 129 and
    the 상담원 연결 button. The web app answers crises before Rasa, so a confirmed crisis reaches this action
    only through a Rasa used without the web app, or as the web app's ``/crisis`` notice (reply unused).
    """

    def __init__(self, helplines: dict[str, Helpline]) -> None:
        """Keep the helplines the message names."""
        self._helplines = helplines

    def name(self) -> str:
        """Same literal as domain.yml."""
        return "action_crisis_support"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        """Send the helplines and flag an urgent handoff, or check in gently."""
        crisis = detect_crisis(tracker.latest_message.get("text") or "")
        if crisis is None:
            utter_answer(dispatcher, check_in_reply(self._helplines), crisis="unconfirmed")
            return []
        reply = crisis_reply(crisis, self._helplines)
        utter_answer(dispatcher, reply, handoff={"reason": "crisis", "urgent": True}, crisis=crisis.kind)
        return []
