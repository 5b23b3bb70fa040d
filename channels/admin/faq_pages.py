"""FAQ pages: the list with search and filters, a new entry, and editing one (save a draft or ask for review)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from channels.admin.dashboard import REMINDER_LABELS
from channels.admin.faq_form import FIELDS, field_errors, form_values, prefill, read_form
from channels.admin.faq_types import STATUS_LABELS, FaqConflictError, FaqDetail, FaqError, FaqValidationError
from channels.admin.page import actor, faqs, may_publish, problem, render
from channels.auth.accounts import StaffAccount
from channels.auth.guard import accounts

bp = Blueprint("faqs", __name__, url_prefix="/faqs")

EXPIRY_LABELS = {"expiring": "30일 안에 끝남", "expired": "적용 기간 지남"}
SAVED = "임시 저장했어요. 게시하려면 검토를 요청해 주세요."
SAVED_SELF = "임시 저장했어요."
SUBMITTED = "검토를 요청했어요. 관리자가 승인하면 챗봇 답변에 반영돼요."
UNCHANGED = "바뀐 내용이 없어 저장하지 않았어요."
BAD_LOCK = "화면 정보가 올바르지 않아요. 페이지를 새로 고친 뒤 다시 시도해 주세요."


@bp.get("")
def faq_list() -> tuple[str, int]:
    """All entries, searchable and filtered (program, category, tenant, status, needs_review, expiry, last editor)."""
    args = request.args
    filters = {
        "query": args.get("q", "").strip()[:200],
        "program": args.get("program", "").strip()[:80],
        "category": args.get("category", "").strip()[:80],
        "tenant": args.get("tenant", "").strip()[:80],
        "status": args.get("status", "") if args.get("status", "") in STATUS_LABELS else "",
        "expiry": args.get("expiry", "") if args.get("expiry", "") in EXPIRY_LABELS else "",
    }
    needs_review = {"1": True, "0": False}.get(args.get("needs_review", ""))
    edited_by = args.get("edited_by", "")
    editor = int(edited_by) if edited_by.isdigit() else None
    today = date.today()
    rows = faqs().list(**filters, needs_review=needs_review, edited_by=editor, today=today)
    reminder = args.get("reminder", "") if args.get("reminder", "") in REMINDER_LABELS else ""
    reasons: dict[str, list[str]] = {}
    if reminder:  # the dashboard's cards: exactly the entries it counted, with why
        reminders = faqs().reminders(today)
        flagged = {row.id for row in getattr(reminders, reminder)}
        rows = [row for row in rows if row.id in flagged]
        reasons = reminders.reasons
    return render(
        "admin/faq_list.html", rows=rows, filters=filters, needs_review=args.get("needs_review", ""),
        edited_by=editor, editors=_editors(), expiry_labels=EXPIRY_LABELS,
        reminder=reminder, reminder_labels=REMINDER_LABELS, reasons=reasons, categories=faqs().categories(),
        tenants=faqs().tenants(),
    )  # fmt: skip


@bp.get("/new")
def new() -> tuple[str, int]:
    """An empty entry, or one pre-filled from the query string (question, answer ...: the inbox links here)."""
    values = prefill(request.args)
    values["updated_at"] = date.today().isoformat()
    return _edit_page(None, values)


@bp.post("/new")
def create() -> Response | tuple[str, int]:
    """Save a new entry as a draft (and ask for review when that button was pressed)."""
    data = read_form(request.form)
    try:
        detail = faqs().save(actor(), None, data, None)
    except FaqValidationError as error:
        return _edit_page(None, form_values(data) | {"id": data.get("id", "")}, problems=error.problems, status=error.status)
    return _after_save(detail)


@bp.get("/<entry_id>")
def edit(entry_id: str) -> tuple[str, int]:
    """One entry's latest text in the edit form, with its state and the steps this person may take."""
    try:
        detail = faqs().get(entry_id)
    except FaqError as error:
        return problem(error.status, "FAQ를 찾을 수 없어요", error.message)
    return _edit_page(detail, form_values(detail.entry))


@bp.post("/<entry_id>")
def update(entry_id: str) -> Response | tuple[str, int]:
    """Save the form as a new draft version; a stale lock shows both texts, nothing is lost."""
    try:
        detail = faqs().get(entry_id)
    except FaqError as error:
        return problem(error.status, "FAQ를 찾을 수 없어요", error.message)
    lock = request.form.get("lock_version", "")
    if not lock.isdigit():
        return problem(400, "저장하지 못했어요", BAD_LOCK)
    data = read_form(request.form) | {"id": entry_id}
    if form_values(data) == form_values(detail.entry | {"id": entry_id}) and int(lock) == detail.lock_version:
        if request.form.get("action") != "submit":
            flash(UNCHANGED)
            return redirect(url_for("admin.faqs.edit", entry_id=entry_id))
        return _after_save(detail, saved=False)
    try:
        detail = faqs().save(actor(), entry_id, data, int(lock))
    except FaqValidationError as error:
        return _edit_page(detail, form_values(data), problems=error.problems, lock_version=int(lock), status=error.status)
    except FaqConflictError as error:
        return _conflict_page(entry_id, error)
    return _after_save(detail)


def _editors() -> list[StaffAccount]:
    """Who can have edited an entry: editors and admins (the 'last edited by' filter)."""
    return [a for a in accounts().list_users() if a.role in ("editor", "admin")]


def _after_save(detail: FaqDetail, saved: bool = True) -> Response | tuple[str, int]:
    """Redirect to the entry with a flash; the 검토 요청 button also submits the saved draft."""
    entry_id = detail.id
    if request.form.get("action") == "submit":
        try:
            faqs().submit(actor(), entry_id, detail.lock_version)
        except FaqError as error:
            flash(f"{'저장은 했지만 ' if saved else ''}검토를 요청하지 못했어요. {error.message}", "error")
            return redirect(url_for("admin.faqs.edit", entry_id=entry_id))
        flash(SUBMITTED)
    else:
        flash(SAVED_SELF if may_publish(actor()) else SAVED)
    return redirect(url_for("admin.faqs.edit", entry_id=entry_id))


def _edit_page(
    detail: FaqDetail | None,
    values: dict[str, Any],
    problems: list[tuple[str, str]] | None = None,
    lock_version: int | None = None,
    status: int = 200,
) -> tuple[str, int]:
    errors, general = field_errors(problems or [])
    me = actor()
    return render(
        "admin/faq_edit.html", status, detail=detail, values=values, fields=FIELDS, errors=errors,
        general_errors=general, lock_version=lock_version if lock_version is not None else getattr(detail, "lock_version", None),
        may_publish=may_publish(me), is_admin=me.role == "admin",
    )  # fmt: skip


def _conflict_page(entry_id: str, error: FaqConflictError) -> tuple[str, int]:
    """Both texts side by side: theirs is saved; mine stays in a form that saves over theirs on purpose."""
    current = faqs().get(entry_id)
    mine, theirs = form_values(error.mine), form_values(error.theirs)
    return render(
        "admin/faq_conflict.html", 409, entry_id=entry_id, mine=mine, theirs=theirs, theirs_by=error.theirs_by,
        fields=FIELDS, lock_version=current.lock_version, detail=current, kept_as=error.kept_as,
    )  # fmt: skip
