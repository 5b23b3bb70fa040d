"""Which FAQs need re-checking and why: yearly figures go stale every January, validity dates run out.

Rules (issue 12): an answer that names an earlier year ("2025년") or a source checked in an earlier year;
valid_until passed, or within 30 days; marked needs_review; and in January every entry whose answer has
a yearly figure (a year together with an amount or a percentage), because 기준 중위소득, 기초연금
선정기준액 and 생계급여 change on 1 January.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

EXPIRING_DAYS = 30
_YEAR = re.compile(r"((?:19|20)\d{2})\s*년")
_AMOUNT = re.compile(r"\d[\d,.]*\s*(?:만\s*|천\s*|억\s*)?원|\d[\d,.]*\s*(?:%|퍼센트|프로)")


def years_mentioned(text: str) -> list[int]:
    """Years written the Korean way ("2025년", "2026 년") in a text."""
    return [int(y) for y in _YEAR.findall(text)]


def has_yearly_figure(text: str) -> bool:
    """A year together with an amount or a percentage: a figure that changes every year."""
    return bool(years_mentioned(text)) and bool(_AMOUNT.search(text))


def reminder_reasons(data: dict[str, Any], today: date) -> list[tuple[str, str]]:
    """(bucket, Korean reason) for every rule an entry (JSON form of a FaqEntry) trips on ``today``."""
    reasons: list[tuple[str, str]] = []
    answer = str(data.get("answer", ""))
    old_years = sorted({y for y in years_mentioned(answer) if y < today.year})
    checked = date.fromisoformat(data["updated_at"]) if data.get("updated_at") else None
    if old_years:
        reasons.append(("earlier_year", f"답변에 지난 연도({', '.join(f'{y}년' for y in old_years)})의 내용이 있습니다."))
    elif checked is not None and checked.year < today.year:
        reasons.append(("earlier_year", f"출처를 {checked.year}년에 확인한 뒤로 다시 확인하지 않았습니다."))
    until = date.fromisoformat(data["valid_until"]) if data.get("valid_until") else None
    if until is not None and until < today:
        reasons.append(("expired", f"게시 종료일({until.isoformat()})이 지났습니다."))
    elif until is not None and until <= today + timedelta(days=EXPIRING_DAYS):
        reasons.append(("expiring", f"게시 종료일({until.isoformat()})이 {EXPIRING_DAYS}일 안에 다가옵니다."))
    if data.get("needs_review"):
        reasons.append(("needs_review", "검토 필요로 표시되어 있습니다."))
    if today.month == 1 and has_yearly_figure(answer):
        reasons.append(("yearly_figures", "1월입니다: 해마다 바뀌는 금액이나 비율이 있어 새해 기준으로 확인해야 합니다."))
    return reasons
