"""Canned responses (agents read them, admins edit them) and the audit log (admins only)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from channels.auth import current_actor, roles_required
from channels.console.canned import MAX_TEXT_CHARS, MAX_TITLE_CHARS, CannedResponses
from channels.console.payloads import json_object, page_cursor, text_field
from channels.handoff import WORKS_CHATS, HandoffService

bp = Blueprint("admin", __name__)

AUDIT_PAGE = 50


def canned_responses() -> CannedResponses:
    """The canned responses of this app's database."""
    return CannedResponses(current_app.extensions["bokji.database"])


def audit_page(before: int | None) -> dict[str, object]:
    """One page of the audit log, newest first, with the cursor of the next (older) page."""
    handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
    entries = handoffs.audit(limit=AUDIT_PAGE + 1, before_id=before)
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    return {"entries": entries, "next_before": entries[-1]["id"] if more and entries else None}


@bp.get("/canned")
@roles_required(*WORKS_CHATS)
def canned_list() -> Response:
    """Every canned response (the chat view inserts them into the reply box)."""
    return jsonify({"canned": canned_responses().all()})


@bp.post("/canned")
@roles_required("admin")
def canned_add() -> tuple[Response, int]:
    """Add a canned response."""
    body = json_object()
    title = text_field(body, "title", "제목", MAX_TITLE_CHARS)
    text = text_field(body, "text", "내용", MAX_TEXT_CHARS)
    return jsonify({"canned": canned_responses().add(current_actor(), title, text)}), 201


@bp.put("/canned/<int:canned_id>")
@roles_required("admin")
def canned_edit(canned_id: int) -> Response:
    """Change a canned response."""
    body = json_object()
    title = text_field(body, "title", "제목", MAX_TITLE_CHARS)
    text = text_field(body, "text", "내용", MAX_TEXT_CHARS)
    return jsonify({"canned": canned_responses().update(current_actor(), canned_id, title, text)})


@bp.delete("/canned/<int:canned_id>")
@roles_required("admin")
def canned_delete(canned_id: int) -> Response:
    """Remove a canned response."""
    canned_responses().delete(current_actor(), canned_id)
    return jsonify({"deleted": canned_id})


@bp.get("/audit")
@roles_required("admin")
def audit() -> Response:
    """The audit log, newest first; ``?before=<id>`` for older entries."""
    return jsonify(audit_page(page_cursor(request.args.get("before"))))
