"""The ``admin`` blueprint: the welfare teams' knowledge admin at /admin (editors and admins only).

Each part of the admin is a child blueprint in its own module, registered here with one line.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request

from channels.admin import dashboard, documents_views, faq_history, faq_pages, faq_workflow, imports, inbox, test_box
from channels.admin.page import local_time
from channels.auth import roles_required
from channels.auth.accounts import ROLE_LABELS
from channels.auth.guard import signed_in

bp = Blueprint(
    "admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
    static_url_path="/static",
)  # fmt: skip

bp.register_blueprint(dashboard.bp)
bp.register_blueprint(faq_pages.bp)
bp.register_blueprint(faq_workflow.bp)
bp.register_blueprint(faq_history.bp)
bp.register_blueprint(imports.bp)  # bulk import and export
bp.register_blueprint(test_box.bp)  # what would the bot answer?
bp.register_blueprint(inbox.bp)  # unanswered questions
bp.register_blueprint(documents_views.bp)  # uploaded documents, their chunks and indexing status
bp.add_app_template_filter(local_time, "local_time")

EDITS_KNOWLEDGE = ("editor", "admin")


@bp.before_request
def _refuse_oversized() -> None:
    """413 before anything runs, so an oversized body is never parsed (an upload route may raise its own limit)."""
    limit = request.max_content_length  # MAX_CONTENT_LENGTH unless a child's url_value_preprocessor set one (Flask 3.1)
    if limit and request.content_length and request.content_length > limit:
        abort(413)


@bp.before_request
def _editors_only() -> Any:
    """Every admin page and child route: signed in (else the sign-in page) as an editor or admin (else 403)."""
    if request.endpoint == "admin.static":  # the stylesheet holds nothing private
        return None
    return roles_required(*EDITS_KNOWLEDGE)(_let_through)()


def _let_through() -> None:
    return None


@bp.context_processor
def _signed_in_user() -> dict[str, Any]:
    """The top bar's name and role on every admin page (child blueprints included)."""
    return {"admin_user": _admin_user}


def _admin_user() -> dict[str, str] | None:
    who = signed_in()
    if who is None:
        return None
    return {"name": who.display_name, "role": who.role, "role_label": ROLE_LABELS.get(who.role, who.role)}
