"""Read an uploaded FAQ spreadsheet (CSV, XLSX or YAML) and report every bad row in Korean, row by row.

The column names and cell rules are the ones ``bokji ingest`` reads (knowledge/ingestion/loaders.py); this
module keeps each problem apart (row number, column as the file names it, reason) so a welfare team can
fix the sheet, instead of failing the whole file with one English line.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.loaders import _COLUMNS, _cell, _fold, _row_to_entry  # the loader's column rules, kept in one place
from knowledge.korean.quantities import particle

IMPORT_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
MAX_ROWS = 5000

# Field -> how staff call it (the template's headers).
FIELD_LABELS = {
    "id": "아이디",
    "question": "질문",
    "alternatives": "다른표현",
    "answer": "답변",
    "category": "분류",
    "target": "대상",
    "department": "담당부서",
    "phone": "전화번호",
    "source_title": "출처",
    "source_url": "출처링크",
    "updated_at": "수정일",
    "valid_from": "시작일",
    "valid_until": "종료일",
    "needs_review": "검토필요",
    "tenant": "기관",
}
REQUIRED = ("id", "question", "answer", "source_title", "updated_at")


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, broken, no header): a Korean message for the page."""


@dataclass(frozen=True)
class RowProblem:
    """One reason a row (or the file) cannot be imported."""

    row: int | None
    """Row number as the spreadsheet shows it (the header is row 1); for YAML the entry's number; None: the file."""
    column: str
    """The column as the file names it ("답변" or "answer"); "" when the whole row is meant."""
    message: str

    def __str__(self) -> str:
        """Where and why, as the report shows it: 5행 · answer: 답변이 비어 있어요."""
        where = f"{self.row}행" if self.row is not None else "파일"
        return f"{where} · {self.column}: {self.message}" if self.column else f"{where} · {self.message}"


@dataclass
class TableReport:
    """What a file holds: the valid entries with their row numbers, and every problem found."""

    entries: list[tuple[int, FaqEntry]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    missing: list[str] = field(default_factory=list)
    """Optional fields the file has no column for: an entry that exists keeps its value there."""

    @property
    def ok(self) -> bool:
        """Whether the file can be imported as a whole (all or nothing)."""
        return not self.problems and bool(self.entries)


def read_table(file_name: str, data: bytes) -> TableReport:
    """Read an uploaded file; problems are collected, never raised.

    Raises:
        TableError: the file is not a CSV, XLSX or YAML file, or cannot be opened at all.
    """
    suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix not in IMPORT_SUFFIXES:
        raise TableError("CSV, XLSX(엑셀) 또는 YAML 파일만 가져올 수 있어요.")
    if not data.strip():
        raise TableError("빈 파일이에요.")
    if suffix == ".xlsx":
        return _report(*_xlsx_rows(data))
    if suffix == ".csv":
        return _report(*_csv_rows(data))
    return _yaml_report(data)


def _csv_rows(data: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableError("CSV 파일의 글자를 읽을 수 없어요. UTF-8 또는 엑셀의 CSV(CP949)로 저장해 주세요.")
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise TableError(f"CSV 파일의 형식이 올바르지 않아요: {exc}") from exc
    if not lines:
        raise TableError("빈 파일이에요.")
    return lines[0], list(enumerate(lines[1:], 2))


def _xlsx_rows(data: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TableError(
            "엑셀(XLSX) 파일이 아니거나 손상된 파일이에요. 엑셀에서 '다른 이름으로 저장 > Excel 통합 문서'로 저장해 주세요."
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError) for a broken file
        raise TableError("엑셀(XLSX) 파일을 열 수 없어요. 암호가 걸려 있거나 손상된 파일인지 확인해 주세요.") from exc
    try:
        rows = []
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                break
    finally:
        workbook.close()
    if not rows:
        raise TableError("첫 번째 시트가 비어 있어요.")
    return rows[0], list(enumerate(rows[1:], 2))


def _report(header: list[Any], rows: list[tuple[int, list[Any]]]) -> TableReport:
    """Validate every row under ``header``; a bad header stops before the rows (their columns are unknown)."""
    report = TableReport()
    names = [_COLUMNS.get(_fold(h)) if h is not None else None for h in header]
    shown = {name: str(h).strip() for h, name in zip(header, names, strict=True) if name}
    report.missing = [name for name in FIELD_LABELS if name not in shown and name not in REQUIRED]
    for h, name in zip(header, names, strict=True):
        if name is None and str(h or "").strip():
            report.problems.append(RowProblem(1, str(h).strip(), _unknown_column()))
    for name in REQUIRED:
        if name not in shown:
            report.problems.append(RowProblem(1, FIELD_LABELS[name], "꼭 있어야 하는 열이 없어요."))
    if report.problems:
        return report
    rows = [(n, cells) for n, cells in rows if any(_cell(c) != "" for c in cells)]
    if len(rows) > MAX_ROWS:
        raise TableError(f"한 번에 {MAX_ROWS:,}행까지 가져올 수 있어요. 파일을 나누어 올려 주세요.")
    report.rows = len(rows)
    ids: list[tuple[int, str]] = []
    for number, cells in rows:
        values = {n: _cell(c) for n, c in zip(names, cells, strict=False) if n is not None}
        ids.append((number, str(values.get("id", ""))))
        _validate(report, number, _row_to_entry(values), shown)
    _check_duplicates(report, shown.get("id", "id"), ids)
    return report


def _yaml_report(data: bytes) -> TableReport:
    try:
        items = yaml.safe_load(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TableError("YAML 파일을 읽을 수 없어요. 내보내기로 받은 형식인지 확인해 주세요.") from exc
    if not isinstance(items, list):
        raise TableError("YAML 파일은 FAQ 항목의 목록이어야 해요(각 항목은 '- id: ...'로 시작).")
    if len(items) > MAX_ROWS:
        raise TableError(f"한 번에 {MAX_ROWS:,}개까지 가져올 수 있어요. 파일을 나누어 올려 주세요.")
    report = TableReport(rows=len(items))
    ids: list[tuple[int, str]] = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            report.problems.append(RowProblem(number, "", "항목이 'key: value' 형식이 아니에요."))
            continue
        ids.append((number, str(item.get("id") or "")))
        _validate(report, number, item, {})
    _check_duplicates(report, "id", ids)
    return report


def _validate(report: TableReport, number: int, row: dict[str, Any], shown: dict[str, str]) -> None:
    try:
        entry = FaqEntry.model_validate(row)
    except ValidationError as exc:
        for error in exc.errors():
            name = _field_of(error["loc"])
            column = shown.get(name, name) if name else ""
            report.problems.append(RowProblem(number, column, _reason(name, error, row)))
        return
    if entry.valid_from and entry.valid_until and entry.valid_until < entry.valid_from:
        column = shown.get("valid_until", "valid_until")
        report.problems.append(RowProblem(number, column, "종료일이 시작일보다 빨라요."))
        return
    report.entries.append((number, entry))


def _check_duplicates(report: TableReport, column: str, ids: list[tuple[int, str]]) -> None:
    """The same id on two rows (valid or not): the later row is the problem (which one should win is the team's call)."""
    first: dict[str, int] = {}
    repeated: set[int] = set()
    for number, entry_id in ids:
        key = entry_id.strip()
        if not key:
            continue
        if key in first:
            report.problems.append(RowProblem(number, column, f"아이디 '{key}'가 {first[key]}행에도 있어요."))
            repeated.add(number)
            continue
        first[key] = number
    report.entries = [(number, entry) for number, entry in report.entries if number not in repeated]


def _field_of(loc: tuple[int | str, ...]) -> str:
    """The spreadsheet field an error points at (``source.title`` -> ``source_title``)."""
    if not loc:
        return ""
    if loc[0] == "source":
        return "source_url" if len(loc) > 1 and loc[1] == "url" else "source_title"
    return str(loc[0])


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def _reason(name: str, error: Any, row: dict[str, Any]) -> str:
    """A pydantic error as a welfare team reads it."""
    kind = str(error.get("type", ""))
    label = _label(name)
    value = error.get("input")
    if kind == "missing" or (kind == "string_too_short" and not str(value or "").strip()):
        return f"{particle(label, '이', '가')} 비어 있어요."
    if kind == "string_too_short":
        return f"{particle(label, '이', '가')} 너무 짧아요(2자 이상)."
    if name == "id" and kind == "string_pattern_mismatch":
        return "아이디는 영문 소문자·숫자·하이픈(-)으로 2~80자여야 해요(예: basic-pension-amount)."
    if kind.startswith("date") or name in ("updated_at", "valid_from", "valid_until"):
        return f"날짜를 읽을 수 없어요: '{value}' (예: {date.today().year}-01-31)."
    if name == "needs_review":
        return f"'{row.get('needs_review', value)}'는 알 수 없는 값이에요. '예' 또는 '아니오'로 적어 주세요."
    if kind == "extra_forbidden":
        return "알 수 없는 항목이에요."
    return f"값이 올바르지 않아요({error.get('msg', kind)})."


def _unknown_column() -> str:
    known = ", ".join(dict.fromkeys(FIELD_LABELS.values()))
    return f"알 수 없는 열이에요. 쓸 수 있는 열: {known} (영문 이름도 돼요)."
