"""The admin's front page: what needs re-checking (reminders) and what is waiting in the workflow."""

from __future__ import annotations

from datetime import date

from flask import Blueprint

from channels.admin.page import faqs, render

bp = Blueprint("dashboard", __name__)

# Reminder buckets in the order the dashboard shows them, with what each card says.
REMINDER_LABELS = {
    "expired": "게시 종료일이 지난 FAQ",
    "expiring": "30일 안에 게시가 끝나는 FAQ",
    "earlier_year": "지난해 기준 금액·내용이 있는 FAQ",
    "needs_review": "다시 확인이 필요한 FAQ",
    "yearly_figures": "새해 기준으로 확인할 FAQ (1월)",
}
LISTED = 20  # entries listed under the cards; the rest are one click away in the filtered list


@bp.get("")
def dashboard() -> tuple[str, int]:
    """Counts of entries to re-check and of drafts and reviews, each a link to the filtered list."""
    today = date.today()
    reminders = faqs().reminders(today)
    counts = reminders.counts
    cards = [
        {"key": key, "label": label, "count": counts.get(key, 0), "href": f"/admin/faqs?reminder={key}"}
        for key, label in REMINDER_LABELS.items()
        if key != "yearly_figures" or today.month == 1
    ]
    workflow = [
        {"label": "검토를 기다리는 FAQ", "count": len(faqs().list(status="review")), "href": "/admin/review"},
        {"label": "임시 저장된 FAQ", "count": len(faqs().list(status="draft")), "href": "/admin/faqs?status=draft"},
    ]
    flagged = sorted(
        {row.id: row for bucket in REMINDER_LABELS for row in getattr(reminders, bucket)}.values(), key=lambda r: r.id
    )
    return render(
        "admin/dashboard.html", cards=cards, workflow=workflow, flagged=flagged[:LISTED], flagged_total=len(flagged),
        reasons=reminders.reasons, today=today,
    )  # fmt: skip
