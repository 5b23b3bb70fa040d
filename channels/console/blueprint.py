"""The ``console`` blueprint: pages at /console, the JSON API and live stream at /console/api."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request

from channels.console import admin, chats, dashboard, events, pages, privacy
from channels.handoff import HandoffError

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
    static_url_path="/static",
)  # fmt: skip
api = Blueprint("api", __name__, url_prefix="/api")
api.register_blueprint(chats.bp)
api.register_blueprint(admin.bp)
api.register_blueprint(events.bp)
bp.register_blueprint(api)
bp.register_blueprint(pages.bp)
bp.register_blueprint(privacy.bp)  # admins: one citizen's conversation exported or erased
bp.register_blueprint(dashboard.bp)  # admins: the operations dashboard (charts, tables, CSV)


@bp.before_request
def _refuse_oversized() -> None:
    """413 before anything runs, even for routes that never read the body (DELETE, claim ...)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length and request.content_length > limit:
        abort(413)


@bp.errorhandler(HandoffError)
def _handoff_error(error: HandoffError) -> tuple[Response, int]:
    """A refused action: its status, a stable code and the Korean message (409 names who has the chat)."""
    body: dict[str, object] = {"code": error.code, "message": error.message}
    holder = getattr(error, "holder", None)
    if holder:
        body["holder"] = holder
    return jsonify({"error": body}), error.status
