"""Document pages of the admin: /admin/documents (list, upload) and /admin/documents/<id> (chunks, toggles, replace).

Every change goes through :class:`channels.admin.documents.DocumentService`; indexing runs in the background,
so an upload returns at once with the document 대기 and the list shows how it goes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from flask import Blueprint, current_app, flash, redirect, request
from werkzeug.wrappers import Response

from channels.admin.documents import SUFFIXES, DocumentProblem, DocumentService
from channels.admin.page import actor, problem, render

DOCUMENT_MAX_BYTES = 30 * 1024 * 1024
_UPLOADS = ("admin.admin_documents.upload", "admin.admin_documents.replace")

bp = Blueprint("admin_documents", __name__)


@bp.url_value_preprocessor
def _allow_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A document may be larger than the app's JSON limit; this runs before the admin's 413 guard (Flask 3.1)."""
    if endpoint in _UPLOADS:
        request.max_content_length = DOCUMENT_MAX_BYTES + 64 * 1024  # the form's other fields and boundaries


def documents() -> DocumentService:
    """The app's document service, built on first use from the parts ``create_app`` put in ``app.extensions``."""
    extensions = current_app.extensions
    if "bokji.documents" not in extensions:
        settings = extensions["bokji.settings"]
        extensions["bokji.documents"] = DocumentService(
            extensions["bokji.database"],
            extensions["bokji.publisher"],
            Path(settings.data_dir),
            extensions["bokji.handoffs"].record,
        )
    return cast(DocumentService, extensions["bokji.documents"])


@bp.get("/documents")
def index() -> tuple[str, int]:
    """Every document with its status and chunk counts, and the upload form."""
    return _list_page()


@bp.post("/documents")
def upload() -> tuple[str, int] | Response:
    """Keep an uploaded file and start indexing it."""
    try:
        name, data = _uploaded_file()
        doc_id = documents().upload(actor(), name, data)
    except DocumentProblem as exc:
        return _list_page(exc.status, exc.message)
    flash(f"'{name}'을(를) 올렸어요. 색인이 끝나면 상태가 '색인 완료'로 바뀌어요.")
    return redirect(f"/admin/documents/{doc_id}", 303)


@bp.get("/documents/<doc_id>")
def detail(doc_id: str) -> tuple[str, int]:
    """A document's status and its chunks (page, heading, text) with a 사용/사용 안 함 switch for each."""
    try:
        document = documents().get(doc_id)
    except DocumentProblem as exc:
        return problem(exc.status, "문서를 찾을 수 없어요", exc.message)
    return render("admin/document.html", document=document, suffixes=", ".join(s[1:].upper() for s in SUFFIXES), max_mb=_max_mb())


@bp.post("/documents/<doc_id>/replace")
def replace(doc_id: str) -> tuple[str, int] | Response:
    """A new version of the file: same id, version + 1, the old chunks leave the index."""
    try:
        name, data = _uploaded_file()
        documents().upload(actor(), name, data, replace_id=doc_id)
    except DocumentProblem as exc:
        return problem(exc.status, "새 버전을 올리지 못했어요", exc.message)
    flash("새 버전을 올렸어요. 예전 버전의 조각은 답변에서 빠지고, 새 버전으로 다시 색인해요.")
    return redirect(f"/admin/documents/{doc_id}", 303)


@bp.post("/documents/<doc_id>/chunks/<int:index>")
def toggle_chunk(doc_id: str, index: int) -> tuple[str, int] | Response:
    """Use or leave out one chunk (``enabled`` = 1 or 0); the document is published again without it."""
    enabled = request.form.get("enabled", "")
    if enabled not in ("0", "1"):
        return problem(400, "바꿀 수 없어요", "조각을 쓸지 말지가 빠졌어요. 문서 화면에서 다시 눌러 주세요.")
    try:
        documents().set_chunk(actor(), doc_id, index, enabled == "1")
    except DocumentProblem as exc:
        return problem(exc.status, "조각을 바꾸지 못했어요", exc.message)
    flash(f"조각 {index + 1}을(를) {'답변에 써요' if enabled == '1' else '답변에 쓰지 않아요'}.")
    return redirect(f"/admin/documents/{doc_id}#chunk-{index}", 303)


@bp.post("/documents/<doc_id>/disable")
def disable(doc_id: str) -> tuple[str, int] | Response:
    """Take the whole document out of answers."""
    try:
        documents().disable(actor(), doc_id)
    except DocumentProblem as exc:
        return problem(exc.status, "바꾸지 못했어요", exc.message)
    flash("이 문서는 이제 답변에 쓰지 않아요.")
    return redirect(f"/admin/documents/{doc_id}", 303)


@bp.post("/documents/<doc_id>/enable")
def enable(doc_id: str) -> tuple[str, int] | Response:
    """Use the document again (read and indexed again)."""
    try:
        documents().enable(actor(), doc_id)
    except DocumentProblem as exc:
        return problem(exc.status, "바꾸지 못했어요", exc.message)
    flash("이 문서를 다시 답변에 써요. 색인이 끝나면 '색인 완료'로 바뀌어요.")
    return redirect(f"/admin/documents/{doc_id}", 303)


def _uploaded_file() -> tuple[str, bytes]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DocumentProblem(400, "올릴 파일을 골라 주세요.")
    data = upload.read(DOCUMENT_MAX_BYTES + 1)
    if len(data) > DOCUMENT_MAX_BYTES:
        raise DocumentProblem(413, f"파일이 너무 커요. {_max_mb()}MB까지 올릴 수 있어요.")
    return upload.filename, data


def _max_mb() -> int:
    return DOCUMENT_MAX_BYTES // (1024 * 1024)


def _list_page(status: int = 200, error: str = "") -> tuple[str, int]:
    rows = documents().rows()
    busy = any(row.status in ("queued", "indexing") for row in rows)
    suffixes = ", ".join(s[1:].upper() for s in SUFFIXES)
    return render("admin/documents.html", status, rows=rows, busy=busy, error=error, suffixes=suffixes, max_mb=_max_mb())
