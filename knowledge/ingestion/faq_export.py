"""Write FAQ entries back out as YAML or XLSX, in forms the loaders read back to the same entries.

XLSX uses the Korean column names the loaders know (아이디, 질문, 다른 표현 ...), one alternative a line,
dates as text, and every cell stored as text so an answer starting with "=" never becomes a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import yaml

from knowledge.domain.faq import FaqEntry

# (column header, how to read it from an entry); headers match knowledge.ingestion.loaders._COLUMNS.
XLSX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("아이디", "id"),
    ("질문", "question"),
    ("다른 표현", "alternatives"),
    ("답변", "answer"),
    ("분류", "category"),
    ("대상", "target"),
    ("담당 부서", "department"),
    ("전화번호", "phone"),
    ("출처", "source.title"),
    ("출처 링크", "source.url"),
    ("확인일", "updated_at"),
    ("시작일", "valid_from"),
    ("종료일", "valid_until"),
    ("검토 필요", "needs_review"),
    ("기관", "tenant"),
)


def faq_yaml(entries: Sequence[FaqEntry]) -> str:
    """Entries as one YAML list, fields in the seed files' order."""
    rows = [entry.model_dump(mode="json") for entry in entries]
    return yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=1000)


def _cell(entry: FaqEntry, field: str) -> str:
    data = entry.model_dump(mode="json")
    value = data["source"][field.split(".", 1)[1]] if field.startswith("source.") else data[field]
    if isinstance(value, bool):
        return "예" if value else "아니요"
    if isinstance(value, list):
        return "\n".join(value)
    return "" if value is None else str(value)


def faq_xlsx(entries: Sequence[FaqEntry]) -> bytes:
    """Entries as an Excel workbook (one sheet, header in row 1)."""
    try:
        from openpyxl import Workbook
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("writing XLSX needs 'openpyxl': pip install openpyxl") from exc
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "FAQ"
    sheet.append([header for header, _ in XLSX_COLUMNS])
    for entry in entries:
        sheet.append([_cell(entry, field) for _, field in XLSX_COLUMNS])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"  # text, never a formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_faqs(entries: Sequence[FaqEntry], path: Path, fmt: str) -> None:
    """Write ``entries`` to ``path`` as ``yaml`` or ``xlsx``."""
    match fmt:
        case "yaml":
            path.write_text(faq_yaml(entries), encoding="utf-8")
        case "xlsx":
            path.write_bytes(faq_xlsx(entries))
        case _:
            raise ValueError(f"unknown export format {fmt!r}: use yaml or xlsx")
