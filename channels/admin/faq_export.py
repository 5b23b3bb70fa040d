"""Write FAQ entries out as an Excel workbook or YAML that the import (and ``bokji ingest``) reads back unchanged.

The workbook uses the Korean column names of the import template; alternative phrasings go one per line
in their cell, dates are date cells, "검토필요" is 예/아니오.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import yaml

from channels.admin.faq_table import FIELD_LABELS
from knowledge.domain.faq import FaqEntry

COLUMNS = tuple(FIELD_LABELS)
_WIDTHS = {"question": 40, "alternatives": 36, "answer": 70, "source_title": 30, "source_url": 30}
_DATES = ("updated_at", "valid_from", "valid_until")


def entry_row(entry: FaqEntry) -> dict[str, Any]:
    """One entry as the workbook's cells, by field."""
    return {
        "id": entry.id,
        "question": entry.question,
        "alternatives": "\n".join(entry.alternatives),
        "answer": entry.answer,
        "category": entry.category,
        "target": entry.target,
        "department": entry.department,
        "phone": entry.phone,
        "source_title": entry.source.title,
        "source_url": entry.source.url,
        "updated_at": entry.updated_at,
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        "needs_review": "예" if entry.needs_review else "아니오",
        "tenant": entry.tenant,
    }


def to_xlsx(entries: Sequence[FaqEntry]) -> bytes:
    """The entries as an XLSX workbook (header row, one row per entry); no entries: the empty template."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "FAQ"
    sheet.append([FIELD_LABELS[name] for name in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for number, entry in enumerate(entries, 2):
        for column, name in enumerate(COLUMNS, 1):
            value = entry_row(entry)[name]
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text (never run in Excel)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if name in ("alternatives", "answer"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, name in enumerate(COLUMNS, 1):
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = _WIDTHS.get(name, 14)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_yaml(entries: Sequence[FaqEntry]) -> str:
    """The entries as a YAML list in the seed files' shape (what ``bokji ingest`` and the import read)."""
    rows = []
    for entry in entries:
        row = entry.model_dump(mode="json")
        for name in _DATES:
            row[name] = row[name] or ""
        rows.append(row)
    return yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=1000)
