"""Bulk FAQ import and export at /admin/import and /admin/export.*: row-level Korean report, all or nothing, round trip."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from openpyxl import Workbook, load_workbook

from channels.admin.faq_export import to_xlsx
from channels.admin.faq_table import FIELD_LABELS, read_table
from channels.store.models import AuditEntry
from knowledge.ingestion.seed_files import load_faq_dir
from knowledge.settings import KnowledgeSettings
from tests.unit.fakes import ScriptedRasa
from tests.unit.test_admin_pages import ENTRY, FakePublisher, Staff, build, service

HEADER = ["id", "question", "answer", "source_title", "updated_at"]


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, publisher: FakePublisher) -> Flask:
    return build(tmp_path, rasa, publisher)


def workbook(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    """An XLSX file as Excel (openpyxl) writes it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_row(n: int) -> list[Any]:
    return [f"test-entry-{n}", f"시험 질문 {n}번은 무엇인가요?", f"시험 답변 {n}번이에요.", "시험 출처", "2026-01-05"]


def upload(staff: Staff, data: bytes, name: str = "faq.xlsx", **form: str) -> Any:
    return staff.client.post(
        "/admin/import",
        data={"csrf_token": staff.token, "file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def token_of(html: str) -> str:
    marker = 'name="token" value="'
    assert marker in html, "the preview offers no import"
    return html.split(marker, 1)[1].split('"', 1)[0]


def entry_ids(app: Flask) -> set[str]:
    return {entry.id for entry in service(app).export(latest=True)}


def test_an_xlsx_with_one_bad_row_changes_nothing_and_names_the_row_and_reason(app: Flask, publisher: FakePublisher) -> None:
    lee = Staff(app, "lee")
    bad = ["test-entry-4", "시험 질문 4번은 무엇인가요?", "", "시험 출처", "2026-01-05"]  # row 5: the answer is empty
    response = upload(lee, workbook([good_row(1), good_row(2), good_row(3), bad, good_row(5)]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "5행" in html and "<td>answer</td>" in html and "답변이 비어 있어요" in html
    assert 'name="token"' not in html  # nothing to commit: the file is refused as a whole
    assert entry_ids(app) == {ENTRY} and set(publisher.live) == {ENTRY}


def test_the_report_lists_every_problem_with_its_column_as_the_file_names_it() -> None:
    data = workbook(
        [
            ["Bad_ID", "질문입니다", "답변입니다", "출처", "2026-01-05"],
            ["ok-entry", "질문입니다", "답변입니다", "출처", "2026-13-45"],
            ["ok-entry", "질문입니다", "답변입니다", "출처", "2026-01-05"],
            ["other-entry", "질문입니다", "답변입니다", "", "2026-01-05"],
        ],
        header=["아이디", "질문", "답변", "출처", "수정일"],
    )
    report = read_table("faq.xlsx", data)
    shown = [str(p) for p in report.problems]
    assert shown[0].startswith("2행 · 아이디: 아이디는 영문 소문자")
    assert shown[1].startswith("3행 · 수정일: 날짜를 읽을 수 없어요: '2026-13-45'")
    assert shown[2] == "5행 · 출처: 출처가 비어 있어요."
    assert shown[3] == "4행 · 아이디: 아이디 'ok-entry'가 3행에도 있어요."
    assert not report.ok


def test_unknown_and_missing_columns_are_reported_before_any_row(app: Flask) -> None:
    lee = Staff(app, "lee")
    response = upload(lee, workbook([good_row(1)], header=["id", "question", "answr", "updated_at"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1행" in html and "answr" in html and "알 수 없는 열이에요" in html
    assert "꼭 있어야 하는 열이 없어요" in html and "<td>답변</td>" in html and "<td>출처</td>" in html


def test_a_good_file_previews_new_and_changed_entries_then_imports_them_as_drafts(app: Flask, publisher: FakePublisher) -> None:
    lee = Staff(app, "lee")
    current = service(app).export()[0]
    changed = [ENTRY, current.question, "기초연금은 새로 바뀐 금액으로 안내해요.", current.source.title, "2026-02-01"]
    preview = upload(lee, workbook([good_row(1), changed, good_row(2)]))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "새 항목 <strong>2</strong>개" in html and "바뀌는 항목 <strong>1</strong>개" in html
    assert "<td>답변, 수정일</td>" in html  # the changed entry names what changes
    assert "파일에 없는 열(다른표현, 분류" in html  # and columns the sheet lacks are kept, not wiped
    assert entry_ids(app) == {ENTRY}  # the preview writes nothing

    done = lee.post("/admin/import/commit", {"token": token_of(html)}, follow=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "새 항목 2개, 바뀐 항목 1개" in page
    assert entry_ids(app) == {ENTRY, "test-entry-1", "test-entry-2"}
    assert service(app).get("test-entry-1").status == "draft"
    assert "새로 바뀐 금액" in service(app).get(ENTRY).entry["answer"]
    assert service(app).get(ENTRY).entry["alternatives"] == current.alternatives and current.alternatives
    assert "새로 바뀐" not in publisher.live[ENTRY].answer  # an editor's import waits for an admin
    with app.extensions["bokji.database"].session() as session:
        audit = [json.loads(a.detail) for a in session.query(AuditEntry).filter(AuditEntry.action == "faq_import")]
    assert {a["entry"] for a in audit} == {ENTRY, "test-entry-1", "test-entry-2"}
    again = lee.post("/admin/import/commit", {"token": token_of(html)})
    assert again.status_code == 400 and "다시 올려 주세요" in again.get_data(as_text=True)


def test_only_admins_publish_on_import(app: Flask, publisher: FakePublisher) -> None:
    lee, choi = Staff(app, "lee"), Staff(app, "choi")
    html = upload(lee, workbook([good_row(1)])).get_data(as_text=True)
    assert "바로 게시하기" not in html
    refused = lee.post("/admin/import/commit", {"token": token_of(html), "publish": "1"})
    assert refused.status_code == 403 and "test-entry-1" not in entry_ids(app)

    html = upload(choi, workbook([good_row(1)])).get_data(as_text=True)
    assert "바로 게시하기" in html
    assert lee.post("/admin/import/commit", {"token": token_of(html)}).status_code == 400  # another person's upload
    done = choi.post("/admin/import/commit", {"token": token_of(html), "publish": "1"})
    assert done.status_code == 303
    assert publisher.live["test-entry-1"].answer == "시험 답변 1번이에요."


def test_export_then_import_gives_the_same_content(app: Flask) -> None:
    seed = load_faq_dir(KnowledgeSettings().seed_dir)
    service(app).import_entries(None, seed, publish=True)
    lee = Staff(app, "lee")
    exported = lee.get("/admin/export.xlsx")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert [e for _, e in read_table("faq.xlsx", exported.data).entries] == service(app).export()
    as_yaml = lee.get("/admin/export.yaml")
    assert [e for _, e in read_table("faq.yaml", as_yaml.data).entries] == service(app).export()
    assert yaml.safe_load(as_yaml.data)[0]["source"]["title"]  # the seed files' shape: bokji ingest reads it

    html = upload(lee, exported.data).get_data(as_text=True)
    assert f"새 항목 <strong>0</strong>개 · 바뀌는 항목 <strong>0</strong>개 · 그대로인 항목 {len(seed)}개" in html


def test_the_template_has_the_headers_the_import_reads(app: Flask) -> None:
    lee = Staff(app, "lee")
    response = lee.get("/admin/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == list(FIELD_LABELS.values())
    empty = upload(lee, response.data)
    assert empty.status_code == 400 and "가져올 행이 없어요" in empty.get_data(as_text=True)


def test_korean_excel_csv_and_formula_looking_text_survive() -> None:
    csv_text = "아이디,질문,답변,출처,수정일,검토필요\nfee-entry,수수료가 있나요?,=무료예요,복지로,2026-01-05,예\n"
    report = read_table("faq.csv", csv_text.encode("cp949"))
    assert report.ok and report.entries[0][1].needs_review and report.entries[0][1].answer == "=무료예요"
    back = read_table("faq.xlsx", to_xlsx([report.entries[0][1]]))
    assert back.entries[0][1] == report.entries[0][1]  # text starting with "=" is no formula in the export


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("faq.txt", b"id,question", 400, "CSV, XLSX(엑셀) 또는 YAML 파일만"),
        ("faq.xlsx", b"this is not a workbook", 400, "엑셀(XLSX) 파일이 아니거나 손상된 파일이에요"),
        ("faq.csv", b"", 400, "빈 파일이에요"),
        ("faq.yaml", b"id: just-one", 400, "YAML 파일은 FAQ 항목의 목록이어야 해요"),
    ],
)
def test_bad_files_get_a_clear_4xx_and_change_nothing(app: Flask, name: str, data: bytes, status: int, message: str) -> None:
    lee = Staff(app, "lee")
    response = upload(lee, data, name)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert entry_ids(app) == {ENTRY}


def test_guards_no_file_oversized_csrf_roles(app: Flask) -> None:
    lee = Staff(app, "lee")
    missing = lee.client.post("/admin/import", data={"csrf_token": lee.token}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "파일을 골라 주세요" in missing.get_data(as_text=True)
    oversized = upload(lee, b"x" * (5 * 1024 * 1024 + 10), "faq.csv")
    assert oversized.status_code == 413 and "5MB까지 올릴 수 있어요" in oversized.get_data(as_text=True)
    big_but_allowed = upload(lee, workbook([good_row(n) for n in range(1, 400)]))  # ~20 KB: over the app's JSON limit
    assert big_but_allowed.status_code == 200
    no_csrf = lee.client.post(
        "/admin/import", data={"file": (io.BytesIO(workbook([good_row(1)])), "faq.xlsx")}, content_type="multipart/form-data"
    )
    assert no_csrf.status_code == 400
    assert Staff(app, "jung").get("/admin/import").status_code == 403
    assert Staff(app, "jung").get("/admin/export.xlsx").status_code == 403
    stranger = app.test_client().post("/admin/import", data={"file": (io.BytesIO(b"x" * (6 * 1024 * 1024)), "faq.csv")})
    assert stranger.status_code == 413 and "<html" not in stranger.get_data(as_text=True)
    anonymous = app.test_client().get("/admin/export.yaml")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert entry_ids(app) == {ENTRY}
