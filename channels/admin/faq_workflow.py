"""The review workflow's pages: the review queue, approve (publish), reject with a reason, unpublish."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from channels.admin.faq_types import FaqError
from channels.admin.page import actor, faqs, may_publish, problem, render
from channels.auth import roles_required

bp = Blueprint("workflow", __name__)

MAX_REASON_CHARS = 2000
APPROVED = "승인하고 게시했어요. 몇 초 안에 챗봇 답변에 반영돼요."
REJECTED = "반려했어요. 작성한 사람이 사유를 보고 다시 고칠 수 있어요."
UNPUBLISHED = "게시를 중단했어요. 몇 초 안에 챗봇이 이 답변을 쓰지 않아요."
NO_REASON = "반려 사유를 적어 주세요. 작성한 사람이 무엇을 고쳐야 하는지 알 수 있어요."
BAD_LOCK = "화면 정보가 올바르지 않아요. 페이지를 새로 고친 뒤 다시 시도해 주세요."
NOT_ALLOWED = "게시는 관리자만 할 수 있어요. 검토를 요청해 주세요."


@bp.get("/review")
def review() -> tuple[str, int]:
    """Entries waiting for an admin's approval, oldest change first."""
    rows = sorted(faqs().list(status="review"), key=lambda row: row.updated_at)
    return render("admin/review.html", rows=rows, may_publish=may_publish(actor()))


@bp.post("/faqs/<entry_id>/approve")
def approve(entry_id: str) -> Response | tuple[str, int]:
    """Publish the latest version (admins; editors too where the team publishes its own edits)."""
    if not may_publish(actor()):
        return problem(403, "게시할 수 없어요", NOT_ALLOWED)
    lock = _lock()
    if lock is None:
        return problem(400, "게시하지 못했어요", BAD_LOCK)
    return _step(entry_id, "게시하지 못했어요", APPROVED, lambda: faqs().approve(actor(), entry_id, lock))


@bp.post("/faqs/<entry_id>/reject")
@roles_required("admin")
def reject(entry_id: str) -> Response | tuple[str, int]:
    """Send a submitted version back to its author with a reason."""
    lock = _lock()
    if lock is None:
        return problem(400, "반려하지 못했어요", BAD_LOCK)
    reason = request.form.get("reason", "").strip()[:MAX_REASON_CHARS]
    if not reason:
        flash(NO_REASON, "error")
        return redirect(url_for("admin.faqs.edit", entry_id=entry_id))
    return _step(entry_id, "반려하지 못했어요", REJECTED, lambda: faqs().reject(actor(), entry_id, lock, reason))


@bp.post("/faqs/<entry_id>/unpublish")
@roles_required("admin")
def unpublish(entry_id: str) -> Response | tuple[str, int]:
    """Take the entry out of the bot's answers (its versions stay)."""
    return _step(entry_id, "게시를 중단하지 못했어요", UNPUBLISHED, lambda: faqs().unpublish(actor(), entry_id))


def _lock() -> int | None:
    value = request.form.get("lock_version", "")
    return int(value) if value.isdigit() else None


def _step(entry_id: str, failed: str, done: str, run: Callable[[], object]) -> Response | tuple[str, int]:
    """Run one workflow step: a flash and back to the entry, or a Korean problem page with the refusal's status."""
    try:
        run()
    except FaqError as error:
        if error.status == 404:
            return problem(404, "FAQ를 찾을 수 없어요", error.message)
        if error.status == 409:  # someone changed it first: show the entry as it is now, with why
            flash(f"{failed}. {error.message}", "error")
            return redirect(url_for("admin.faqs.edit", entry_id=entry_id))
        return problem(error.status, failed, error.message)
    flash(done)
    return redirect(url_for("admin.faqs.edit", entry_id=entry_id))
