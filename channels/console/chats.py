"""The console's chat API: the queue, one chat's transcript and notes, and every action an agent takes.

Every state change goes through :class:`channels.handoff.HandoffService` (the one state machine); this
module only reads requests, checks roles and renders JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from channels.auth import current_actor, roles_required
from channels.console.payloads import id_field, json_object
from channels.console.transcript import CLOSE_REASONS, render_turn
from channels.handoff import WORKS_CHATS, HandoffService, HandoffView
from channels.store.transcripts import TranscriptStore

bp = Blueprint("chats", __name__)


def services() -> tuple[HandoffService, TranscriptStore]:
    """The handoff state machine and the transcripts of this app."""
    return current_app.extensions["bokji.handoffs"], current_app.extensions["bokji.transcripts"]


def queue_payload(handoffs: HandoffService) -> dict[str, Any]:
    """The live queue: waiting chats (urgent first, then the longest wait), then the ones people hold."""
    return {"queue": [v.as_json() for v in handoffs.queue()]}


def chat_payload(handoffs: HandoffService, transcripts: TranscriptStore, view: HandoffView) -> dict[str, Any]:
    """Everything the chat view shows: the handoff, the whole masked transcript and the internal notes."""
    return {
        "handoff": view.as_json(),
        "turns": [render_turn(t) for t in transcripts.turns(view.sender_id)],
        "notes": handoffs.notes(view.id),
    }


def _optional_body() -> dict[str, Any]:
    """Actions without fields accept an empty body; anything sent must still be a JSON object."""
    if not request.content_length and not request.is_json:
        return {}
    return json_object()


@bp.get("/queue")
@roles_required(*WORKS_CHATS)
def queue() -> Response:
    """The queue as it is now (the live stream sends the same shape)."""
    handoffs, _ = services()
    return jsonify(queue_payload(handoffs))


@bp.get("/chats/<int:handoff_id>")
@roles_required(*WORKS_CHATS)
def chat(handoff_id: int) -> Response:
    """Open one chat (audited as ``opened``), with who can take it over and the usual close reasons."""
    handoffs, transcripts = services()
    actor = current_actor()
    view = handoffs.opened(handoff_id, actor)
    payload = chat_payload(handoffs, transcripts, view)
    payload["agents"] = [a for a in handoffs.agents() if a["id"] != actor.id]
    payload["close_reasons"] = list(CLOSE_REASONS)
    payload["me"] = {"id": actor.id, "name": actor.name, "role": actor.role}
    return jsonify(payload)


@bp.post("/chats/<int:handoff_id>/claim")
@roles_required(*WORKS_CHATS)
def claim(handoff_id: int) -> Response:
    """Take a waiting chat; 409 names who already has it."""
    _optional_body()
    handoffs, _ = services()
    return jsonify({"handoff": handoffs.claim(handoff_id, current_actor()).as_json()})


@bp.post("/chats/<int:handoff_id>/reply")
@roles_required(*WORKS_CHATS)
def reply(handoff_id: int) -> Response:
    """Send the citizen a message (only the agent holding the chat, or an admin)."""
    body = json_object()
    handoffs, transcripts = services()
    turn_id = handoffs.reply(handoff_id, current_actor(), body.get("text", ""))
    view = handoffs.get(handoff_id)
    turn = next(t for t in transcripts.turns_after(view.sender_id, turn_id - 1) if t["id"] == turn_id)
    return jsonify({"handoff": view.as_json(), "turn": render_turn(turn)})


@bp.post("/chats/<int:handoff_id>/note")
@roles_required(*WORKS_CHATS)
def note(handoff_id: int) -> Response:
    """Add an internal note the citizen never sees."""
    body = json_object()
    handoffs, _ = services()
    note_id = handoffs.note(handoff_id, current_actor(), body.get("text", ""))
    return jsonify({"note_id": note_id, "notes": handoffs.notes(handoff_id)})


@bp.post("/chats/<int:handoff_id>/typing")
@roles_required(*WORKS_CHATS)
def typing(handoff_id: int) -> tuple[Response, int]:
    """The agent is typing (the citizen sees an indicator for a few seconds)."""
    _optional_body()
    handoffs, _ = services()
    handoffs.agent_typing(handoff_id, current_actor())
    return jsonify({"ok": True}), 200


@bp.post("/chats/<int:handoff_id>/transfer")
@roles_required(*WORKS_CHATS)
def transfer(handoff_id: int) -> Response:
    """Hand the chat to another agent (``{"agent_id": …}`` from the chat view's list)."""
    body = json_object()
    agent_id = id_field(body, "agent_id", "넘겨받을 상담원")
    handoffs, _ = services()
    return jsonify({"handoff": handoffs.transfer(handoff_id, current_actor(), agent_id).as_json()})


@bp.post("/chats/<int:handoff_id>/return")
@roles_required(*WORKS_CHATS)
def return_to_bot(handoff_id: int) -> Response:
    """Give the chat back to the bot (the citizen is told; the bot answers the next question)."""
    _optional_body()
    handoffs, _ = services()
    return jsonify({"handoff": handoffs.return_to_bot(handoff_id, current_actor()).as_json()})


@bp.post("/chats/<int:handoff_id>/close")
@roles_required(*WORKS_CHATS)
def close(handoff_id: int) -> Response:
    """Close the chat with a reason (one of the usual ones or the agent's own words)."""
    body = json_object()
    handoffs, _ = services()
    return jsonify({"handoff": handoffs.close(handoff_id, current_actor(), body.get("reason", "")).as_json()})
