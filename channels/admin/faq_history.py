"""An entry's history: every version, a side-by-side comparison of any two, and rollback to an earlier one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from channels.admin.faq_types import FaqError
from channels.admin.page import actor, faqs, may_publish, problem, render
from channels.admin.text_diff import inline_diff

bp = Blueprint("history", __name__, url_prefix="/faqs/<entry_id>")

ROLLED_BACK = "버전 {version}의 내용으로 되돌려 게시했어요. 몇 초 안에 챗봇 답변에 반영돼요."
BAD_VERSION = "비교할 버전 번호가 올바르지 않아요. 버전 기록에서 두 버전을 골라 주세요."
NOT_ALLOWED = "되돌리기는 관리자만 할 수 있어요."


@bp.get("/versions")
def versions(entry_id: str) -> tuple[str, int]:
    """Every saved version, newest first, with who wrote and who reviewed it."""
    try:
        detail = faqs().get(entry_id)
    except FaqError as error:
        return problem(error.status, "FAQ를 찾을 수 없어요", error.message)
    return render("admin/faq_versions.html", detail=detail, rows=detail.versions, may_rollback=may_publish(actor()))


@bp.get("/diff")
def diff(entry_id: str) -> tuple[str, int]:
    """Two versions side by side (``a`` before, ``b`` after); changed fields are marked in words, not colour only."""
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if not (a.isdigit() and b.isdigit()) or len(a) > 9 or len(b) > 9:
        return problem(400, "비교할 수 없어요", BAD_VERSION)
    try:
        detail = faqs().get(entry_id)
        fields = faqs().diff(entry_id, int(a), int(b))
    except FaqError as error:
        return problem(error.status, "비교할 수 없어요", error.message)
    rows = []
    for field in fields:
        before, after = inline_diff(field.before, field.after) if field.changed else (field.before, field.after)
        rows.append({"label": field.label, "field": field.field, "changed": field.changed, "before": before, "after": after})
    changed = sum(1 for row in rows if row["changed"])
    return render(
        "admin/faq_diff.html", detail=detail, rows=rows, a=int(a), b=int(b), changed=changed,
        numbers=[row.version for row in detail.versions], may_rollback=may_publish(actor()),
    )  # fmt: skip


@bp.post("/rollback")
def rollback(entry_id: str) -> Response | tuple[str, int]:
    """Publish an earlier version's text again, as a new version (nothing in the history is lost)."""
    if not may_publish(actor()):
        return problem(403, "되돌릴 수 없어요", NOT_ALLOWED)
    to = request.form.get("version", "")
    if not to.isdigit() or len(to) > 9:
        return problem(400, "되돌릴 수 없어요", BAD_VERSION)
    try:
        faqs().rollback(actor(), entry_id, int(to))
    except FaqError as error:
        return problem(error.status, "되돌릴 수 없어요", error.message)
    flash(ROLLED_BACK.format(version=to))
    return redirect(url_for("admin.faqs.edit", entry_id=entry_id))
