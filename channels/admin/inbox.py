"""The unanswered-questions inbox at /admin/inbox: what citizens asked that the bot could not answer well, grouped.

Groups come from real traffic (:mod:`channels.admin.unanswered`), by similarity
(:mod:`channels.admin.question_groups`), with how often and when last asked. "FAQ 만들기" opens a new FAQ
filled with the group's wordings; "해결됨" records which entry answers it and hides the group until the
question comes again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask.sansio.blueprints import BlueprintSetupState

from channels.admin.faq_types import FaqNotFoundError
from channels.admin.page import actor, faqs, render
from channels.admin.question_groups import QuestionGroup, covered_by, group_questions, question_key, same_question
from channels.admin.unanswered import REASON_LABELS, Occurrence, Resolution, UnansweredQuestions
from channels.handoff import HandoffService
from knowledge.korean.text import normalize

PERIODS = {7: "최근 7일", 30: "최근 30일", 90: "최근 90일", 365: "최근 1년"}
DEFAULT_DAYS = 90
MAX_GROUPS = 200
MAX_QUESTION_CHARS = 1000
ENTRY_ID_CHARS = 80

bp = Blueprint("admin_inbox", __name__)


@bp.record_once
def _wire(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault("bokji.unanswered", UnansweredQuestions(state.app.extensions["bokji.database"]))


def unanswered() -> UnansweredQuestions:
    """The app's reader of unanswered questions."""
    return cast(UnansweredQuestions, current_app.extensions["bokji.unanswered"])


@dataclass(frozen=True)
class InboxGroup:
    """A group as the page shows it."""

    key: str
    question: str
    variants: list[str]
    count: int
    last_seen: datetime
    reasons: list[tuple[str, int]]
    previously: Resolution | None
    draft_url: str


@bp.get("/inbox")
def inbox() -> tuple[str, int]:
    """Open groups, newest (or most asked) first."""
    return _page(request.args)


@bp.post("/inbox/resolve")
def resolve() -> Any:
    """Mark a group answered (by an FAQ entry, or none in particular); it shows again if the question comes back."""
    question = normalize(request.form.get("question", ""))
    entry_id = request.form.get("entry_id", "").strip()[:ENTRY_ID_CHARS] or None
    if not question or len(question) > MAX_QUESTION_CHARS:
        return _page(request.form, 400, "해결할 질문을 찾을 수 없어요. 목록에서 다시 골라 주세요.")
    if entry_id is not None:
        try:
            faqs().get(entry_id)
        except FaqNotFoundError:
            return _page(request.form, 400, f"'{entry_id}' FAQ 항목이 없어요. 답이 되는 항목의 아이디를 목록에서 골라 주세요.")
    who = actor()
    resolution = unanswered().resolve(question_key(question), question, entry_id, who.id)
    handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
    handoffs.record(who, "inbox_resolved", {"resolution": resolution.id, "question": question, "entry": entry_id})
    flash(f"'{question}' 묶음을 해결됨으로 표시했어요." + (f" 답이 되는 항목: {entry_id}" if entry_id else ""), "success")
    kept: dict[str, Any] = {k: v for k in ("days", "order") if (v := request.form.get(k, ""))}
    return redirect(url_for("admin.admin_inbox.inbox", **kept), 303)


def _page(args: Mapping[str, str], status: int = 200, error: str = "") -> tuple[str, int]:
    days = int(args.get("days", "") or DEFAULT_DAYS) if str(args.get("days", "")).isdigit() else DEFAULT_DAYS
    if days not in PERIODS:
        days = DEFAULT_DAYS
    order = "count" if args.get("order") == "count" else "recent"
    groups = open_groups(days)
    if order == "count":
        groups.sort(key=lambda g: (g.count, g.last_seen), reverse=True)
    entries = [(row.id, row.question) for row in faqs().list()]
    return render(
        "admin/inbox.html",
        status,
        groups=groups[:MAX_GROUPS],
        total=len(groups),
        days=days,
        periods=PERIODS,
        order=order,
        entries=entries,
        error=error,
    )


def open_groups(days: int) -> list[InboxGroup]:
    """Groups with an occurrence no resolution covers, newest first."""
    resolutions = unanswered().resolutions()
    covering = [(r.question, r.resolved_at) for r in resolutions]
    open_items = [o for o in unanswered().occurrences(days) if not covered_by(o, covering)]
    return [_shown(group, resolutions) for group in group_questions(open_items)]


def _shown(group: QuestionGroup[Occurrence], resolutions: list[Resolution]) -> InboxGroup:
    reasons = Counter(reason for member in group.members for reason in member.reasons)
    variants = group.variants()
    previously = next((r for r in resolutions if same_question(group.seed.question, r.question)), None)
    draft = urlencode({"question": variants[0], "alternatives": "\n".join(variants[1:])})
    return InboxGroup(
        key=group.key,
        question=variants[0],
        variants=variants[1:],
        count=group.count,
        last_seen=group.last_seen,
        reasons=[(REASON_LABELS.get(r, r), n) for r, n in reasons.most_common()],
        previously=previously,
        draft_url=f"/admin/faqs/new?{draft}",
    )
