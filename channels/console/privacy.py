"""The privacy page (admins only): one citizen's conversation exported or erased on their request.

``/console/privacy`` takes a sender id (``web:…``, ``kakao:…``, or a widget's session id); 대화 내보내기
downloads the whole conversation as JSON, 대화 삭제 shows what would be erased and asks once more. Both are
recorded in the audit log (who, when, which sender, how many rows; never the text).
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from flask import Blueprint, Response, current_app, render_template, request

from channels.auth import current_actor, roles_required
from channels.auth.accounts import ROLE_LABELS
from channels.handoff import HandoffError
from channels.privacy import CitizenData, parse_sender_id

bp = Blueprint("privacy", __name__)

COUNT_LABELS = {
    "turns": "메시지",
    "feedback": "답변 평가",
    "handoffs": "상담 연결 기록",
    "notes": "내부 메모",
    "deliveries": "카카오톡 전달 기록",
    "events": "실시간 알림 기록",
    "rasa_events": "챗봇 대화 상태 기록",
}


def citizen_data() -> CitizenData:
    """The app's export and erase service."""
    return cast(CitizenData, current_app.extensions["bokji.citizen_data"])


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_actor()
    context.setdefault("sender_id", "")
    return (
        render_template(
            "console/privacy.html", me=actor, role_label=ROLE_LABELS.get(actor.role, actor.role), labels=COUNT_LABELS, **context
        ),
        status,
    )


@bp.get("/privacy")
@roles_required("admin")
def privacy() -> tuple[str, int]:
    """The form: which conversation, and what to do with it."""
    return _page()


@bp.post("/privacy/export")
@roles_required("admin")
def export() -> Response | tuple[str, int]:
    """Download one conversation as JSON (turns with ratings, handoffs with internal notes); audited."""
    typed = request.form.get("sender_id", "")
    try:
        sender_id = parse_sender_id(typed)
        data = citizen_data().export(sender_id, current_actor())
    except HandoffError as error:
        return _page(error.status, sender_id=typed, error=error.message)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", sender_id)[:80]
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="conversation-{name}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/privacy/delete")
@roles_required("admin")
def delete() -> tuple[str, int]:
    """First what would be erased and a confirmation; with ``confirm=yes`` the erase itself (audited)."""
    typed = request.form.get("sender_id", "")
    try:
        sender_id = parse_sender_id(typed)
        if request.form.get("confirm") != "yes":
            counts = citizen_data().counts(sender_id)
            if counts.empty:
                raise HandoffError(404, "unknown_sender", "그 ID로 저장된 대화가 없어요.")
            return _page(sender_id=sender_id, confirm=counts.as_dict())
        deleted = citizen_data().delete(sender_id, current_actor())
    except HandoffError as error:
        return _page(error.status, sender_id=typed, error=error.message)
    return _page(deleted=deleted.as_dict(), deleted_sender=sender_id)
