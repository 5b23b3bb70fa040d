"""Bulk import and export of FAQs: /admin/import (upload, preview with a row-level report, commit) and /admin/export.*.

An upload is checked row by row (:mod:`channels.admin.faq_table`); the preview lists every problem (row,
column, reason) and what would be added or changed. Committing goes through ``FaqService.import_entries`` in
one transaction: a file with any bad row changes nothing. Exporting writes what the import reads back unchanged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for

from channels.admin.faq_export import COLUMNS, entry_row, to_xlsx, to_yaml
from channels.admin.faq_table import FIELD_LABELS, IMPORT_SUFFIXES, MAX_ROWS, TableError, TableReport, read_table
from channels.admin.faq_types import FaqError
from channels.admin.page import actor, faqs, may_publish, problem, render
from channels.admin.pending_imports import PendingImports
from channels.auth.guard import signed_in
from knowledge.domain.faq import FaqEntry

IMPORT_MAX_BYTES = 5 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOO_LARGE = f"파일이 너무 커요. {IMPORT_MAX_BYTES // (1024 * 1024)}MB까지 올릴 수 있어요. 파일을 나누어 올려 주세요."

bp = Blueprint("admin_import", __name__)


@bp.url_value_preprocessor
def _allow_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An FAQ file may be larger than the app's JSON limit; this runs before every size check (Flask 3.1 per-request limit)."""
    if endpoint == "admin.admin_import.upload":
        request.max_content_length = IMPORT_MAX_BYTES


@bp.errorhandler(413)
def _too_large(error: Exception) -> tuple[str, int]:
    """An oversized upload gets the import page with a Korean reason (the guard refuses it before sign-in is checked)."""
    who = signed_in()
    if who is None or who.role not in ("editor", "admin"):
        return TOO_LARGE, 413
    return _form_page(413, TOO_LARGE)


def pending() -> PendingImports:
    """Checked uploads waiting for their commit, under ``<data_dir>/imports``."""
    settings = current_app.extensions["bokji.settings"]
    return PendingImports(Path(settings.data_dir) / "imports")


@bp.get("/import")
def form() -> tuple[str, int]:
    """The upload form, the template and the export downloads."""
    return _form_page()


@bp.post("/import")
def upload() -> tuple[str, int]:
    """Check an uploaded file: a preview with the report; nothing is written to the FAQ yet."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form_page(400, "가져올 파일을 골라 주세요.")
    data = upload.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        return _form_page(413, TOO_LARGE)
    name = Path(upload.filename).name
    try:
        report = read_table(name, data)
    except TableError as exc:
        return _form_page(400, str(exc))
    if not report.problems and not report.entries:
        return _form_page(400, "가져올 행이 없어요. 머리글(1행) 아래에 FAQ를 한 행에 하나씩 적어 주세요.")
    current = {entry.id: entry for entry in faqs().export(latest=True)}
    report.entries = [(number, keep_missing(entry, current.get(entry.id), report.missing)) for number, entry in report.entries]
    changes = _changes(report, current)
    token = pending().save(actor().id, name, [e for _, e in report.entries]) if report.ok else ""
    return render(
        "admin/import_preview.html",
        200 if report.ok else 422,
        file_name=name,
        report=report,
        changes=changes,
        token=token,
        may_publish=may_publish(actor()),
        kept_columns=[FIELD_LABELS[name] for name in report.missing],
    )


@bp.post("/import/commit")
def commit() -> Any:
    """Import a previewed file, all or nothing; publish it too when an admin (or a self-publishing editor) asked."""
    who = actor()
    token = request.form.get("token", "")
    waiting = pending().load(token, who.id)
    if waiting is None:
        return _form_page(400, "확인한 파일을 찾을 수 없어요(1시간이 지났거나 이미 가져왔어요). 파일을 다시 올려 주세요.")
    publish = request.form.get("publish") == "1"
    if publish and not may_publish(who):
        return problem(
            403, "게시할 수 없어요", "게시는 관리자만 할 수 있어요. 게시하지 않고 가져오면 관리자가 검토한 뒤 게시해요."
        )
    try:
        result = faqs().import_entries(who, waiting.entries, publish, note=f"가져오기: {waiting.file_name}"[:200])
    except FaqError as exc:
        return problem(exc.status, "가져오지 못했어요", f"{exc.message} 아무것도 바뀌지 않았어요.")
    pending().discard(token)
    message = (
        f"'{waiting.file_name}'을(를) 가져왔어요: 새 항목 {len(result.created)}개, 바뀐 항목 {len(result.updated)}개, "
        f"그대로인 항목 {len(result.unchanged)}개"
    )
    flash(message + (f", 게시 {len(result.published)}개." if publish else ". 게시하려면 검토를 요청해 주세요."), "success")
    return redirect(url_for("admin.admin_import.form"), 303)


@bp.post("/import/cancel")
def cancel() -> Any:
    """Forget a previewed file."""
    pending().discard(request.form.get("token", ""))
    flash("가져오기를 취소했어요. 아무것도 바뀌지 않았어요.", "success")
    return redirect(url_for("admin.admin_import.form"), 303)


@bp.get("/import/template.xlsx")
def template() -> Response:
    """An empty workbook with the column headers the import reads."""
    return _download(to_xlsx([]), "faq-template.xlsx", XLSX_TYPE)


@bp.get("/export.xlsx")
def export_xlsx() -> Response:
    """Every entry as a workbook (``?latest=1``: the latest text of each, drafts included; else what is published)."""
    return _download(to_xlsx(_exported()), f"faq-{date.today().isoformat()}.xlsx", XLSX_TYPE)


@bp.get("/export.yaml")
def export_yaml() -> Response:
    """Every entry as YAML in the seed files' shape (``bokji ingest`` reads it too)."""
    body = to_yaml(_exported()).encode("utf-8")
    return _download(body, f"faq-{date.today().isoformat()}.yaml", "application/x-yaml; charset=utf-8")


def _exported() -> list[FaqEntry]:
    return faqs().export(latest=request.args.get("latest") == "1")


def _download(body: bytes, file_name: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_page(status: int = 200, error: str = "") -> tuple[str, int]:
    return render(
        "admin/import.html",
        status,
        error=error,
        columns=[FIELD_LABELS[name] for name in COLUMNS],
        suffixes=", ".join(IMPORT_SUFFIXES),
        max_mb=IMPORT_MAX_BYTES // (1024 * 1024),
        max_rows=MAX_ROWS,
    )


def keep_missing(entry: FaqEntry, before: FaqEntry | None, missing: list[str]) -> FaqEntry:
    """An existing entry keeps its value of every field the file has no column for (a sheet of answers only wipes nothing)."""
    if before is None or not missing:
        return entry
    data, old = entry.model_dump(), before.model_dump()
    for name in missing:
        if name.startswith("source_"):
            data["source"][name.removeprefix("source_")] = old["source"][name.removeprefix("source_")]
        else:
            data[name] = old[name]
    return FaqEntry.model_validate(data)


def _changes(report: TableReport, current: dict[str, FaqEntry]) -> dict[str, list[dict[str, Any]]]:
    """What the valid rows would do to the FAQ: new entries, changed ones (with the fields), unchanged ones."""
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    same: list[dict[str, Any]] = []
    for number, entry in report.entries:
        before = current.get(entry.id)
        item = {"row": number, "id": entry.id, "question": entry.question}
        if before is None:
            added.append(item)
            continue
        old, new = entry_row(before), entry_row(entry)
        fields = [FIELD_LABELS[name] for name in COLUMNS if old[name] != new[name]]
        (changed if fields else same).append({**item, "fields": fields})
    return {"added": added, "changed": changed, "same": same}
