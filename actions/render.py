"""Turn knowledge answers into Rasa messages: text, quick replies, and sources as custom JSON."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from knowledge.domain.answer import Answer

HUMAN_BUTTON = {"title": "상담원 연결", "payload": "/request_human"}


def answer_payload(answer: Answer, **extra: Any) -> dict[str, Any]:
    """The custom JSON a channel reads next to the text: sources, mode, confidence, the whole text, the decision record.

    The decision record (masked) is kept with the transcript turn for staff; channels never show it to citizens.

    Rasa's REST channel splits a text without buttons at blank lines into several messages; the
    whole text lets the web app put the answer back together with its sources.
    """
    return {
        "text": answer.text,
        "sources": [s.model_dump() for s in answer.sources],
        "mode": answer.mode,
        "confidence": answer.confidence,
        "doc_id": answer.doc_id,
        **({"decision": answer.decision.as_log()} if answer.decision is not None else {}),
        **extra,
    }


def answer_message(answer: Answer, **extra: Any) -> dict[str, Any]:
    """An answer as one message (text, buttons, custom); "not found" answers offer a human unless one is on the way."""
    buttons = [{"title": q, "payload": q} for q in answer.suggestions]
    if answer.mode == "none" and "handoff" not in extra:
        buttons.append(HUMAN_BUTTON)
    return {"text": answer.text, "buttons": buttons, "custom": answer_payload(answer, **extra)}


def utter_answer(dispatcher: CollectingDispatcher, answer: Answer, **extra: Any) -> None:
    """Send an answer through Rasa."""
    message = answer_message(answer, **extra)
    dispatcher.utter_message(text=message["text"], buttons=message["buttons"], json_message=message["custom"])
