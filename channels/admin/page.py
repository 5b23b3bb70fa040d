"""Rendering admin pages: the signed-in person, the FAQ service, Korean problem pages and status labels."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from channels.admin.faq_types import STATUS_LABELS, VERSION_STATE_LABELS
from channels.auth import current_actor
from channels.handoff import Actor

if TYPE_CHECKING:
    from channels.admin.faqs import FaqService

SEOUL = ZoneInfo("Asia/Seoul")


def faqs() -> FaqService:
    """The app's FAQ service (``app.extensions["bokji.faqs"]``)."""
    return cast("FaqService", current_app.extensions["bokji.faqs"])


def actor() -> Actor:
    """Who is acting (the blueprint's guard has already let only editors and admins in)."""
    return current_actor()


def may_publish(who: Actor) -> bool:
    """Admins publish; editors too where the team publishes its own edits (``BOKJI_ADMIN__SELF_PUBLISH``)."""
    settings = current_app.extensions["bokji.settings"]
    return who.role == "admin" or bool(settings.admin.self_publish)


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """An admin page with the status labels every page uses."""
    page = render_template(template, me=actor(), status_labels=STATUS_LABELS, state_labels=VERSION_STATE_LABELS, **context)
    return page, status


def problem(status: int, title: str, message: str) -> tuple[str, int]:
    """A Korean page for a refused request (unknown entry, bad address, a step not allowed now)."""
    return render("admin/problem.html", status, title=title, message=message)


def local_time(value: datetime | None) -> str:
    """A stored UTC time as Korean staff read it (KST, minutes)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
