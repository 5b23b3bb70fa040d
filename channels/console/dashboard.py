"""The operations dashboard (admins): the city's figures for a range of days as charts, tables and CSV.

``/console/operations?from=YYYY-MM-DD&to=YYYY-MM-DD`` (default: the last 14 days, today included);
``&format=csv`` downloads the day table, ``&format=csv&table=topics`` the top unanswered topics.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, current_app, request

from channels.auth import roles_required
from channels.console.operations import Operations, OperationsReport
from channels.console.pages import _page

bp = Blueprint("operations", __name__)

DEFAULT_DAYS = 14
MAX_DAYS = 366
# The day table's columns: key, Korean heading (the page, the charts' legends and the CSV share them).
COLUMNS = (
    ("day", "날짜"),
    ("conversations", "대화 수"),
    ("messages", "시민 메시지 수"),
    ("resolved_pct", "상담원 없이 해결(%)"),
    ("handoffs", "상담 연결 요청 수"),
    ("handoff_pct", "상담 연결 비율(%)"),
    ("fallback_pct", "답을 찾지 못한 비율(%)"),
    ("up", "좋아요 수"),
    ("down", "싫어요 수"),
    ("median_s", "답변 시간 중앙값(초)"),
    ("p95_s", "답변 시간 95%(초)"),
)


class RangeError(ValueError):
    """A date range the dashboard cannot show (the message is for the admin, in Korean)."""


def parse_range(raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """The range asked for, or the last 14 days; raises :class:`RangeError` with a Korean message."""
    try:
        end = date.fromisoformat(raw_to) if raw_to else today
        start = date.fromisoformat(raw_from) if raw_from else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise RangeError("날짜는 2026-03-01처럼 연-월-일로 입력해 주세요.") from None
    if start > end:
        raise RangeError("시작 날짜가 끝 날짜보다 늦어요. 날짜를 바꿔 주세요.")
    if (end - start).days + 1 > MAX_DAYS:
        raise RangeError(f"한 번에 {MAX_DAYS}일까지 볼 수 있어요. 기간을 줄여 주세요.")
    return start, end


def operations() -> Operations:
    """The report builder on this app's database, in the office's time zone."""
    settings = current_app.extensions["bokji.settings"]
    return Operations(current_app.extensions["bokji.database"], settings.handoff.timezone)


def csv_response(report: OperationsReport, table: str) -> Response:
    """The day table (or the top topics) as CSV for Excel (UTF-8 with a BOM, so Korean opens correctly)."""
    out = io.StringIO()
    writer = csv.writer(out)
    if table == "topics":
        writer.writerow(["순위", "질문", "횟수"])
        writer.writerows([rank, topic.question, topic.count] for rank, topic in enumerate(report.topics, 1))
    else:
        writer.writerow([label for _, label in COLUMNS])
        for period in [*report.days, report.total]:
            row = period.row()
            writer.writerow(["" if row[key] is None else row[key] for key, _ in COLUMNS])
    name = f"operations-{table if table == 'topics' else 'days'}-{report.start.isoformat()}-{report.end.isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/operations")
@roles_required("admin")
def dashboard() -> tuple[str, int] | Response:
    """The figures of the range as summary cards, charts with their tables, and CSV links."""
    builder = operations()
    today = datetime.now(builder.zone).date()
    try:
        start, end = parse_range(request.args.get("from"), request.args.get("to"), today)
    except RangeError as error:
        return _page("console/problem.html", 400, title="기간을 다시 골라 주세요", message=str(error))
    report = builder.report(start, end)
    if request.args.get("format") == "csv":
        return csv_response(report, request.args.get("table", "days"))
    return _page(
        "console/operations.html", report=report, columns=COLUMNS, rows=[p.row() for p in report.days],
        total=report.total.row(), start=start, end=end,
    )  # fmt: skip
