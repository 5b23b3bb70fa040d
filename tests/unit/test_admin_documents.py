"""Documents in the admin: real HWP and HWPX uploads are indexed with their headings, chunks toggle, versions replace."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfWriter
from sqlalchemy import select

from channels.admin.documents_views import documents
from channels.store.models import AuditEntry
from knowledge.domain.document import LongDocument
from knowledge.ingestion.ingest import document_chunks
from tests.unit.fakes import ScriptedRasa
from tests.unit.test_admin_pages import FakePublisher, Staff, build

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"  # see PROVENANCE.md there
HWP = FIXTURES / "noori-press-release-2018.hwp"
HWPX = FIXTURES / "mcst-press-release-2024.hwpx"
HWP_TITLE = "우리가 독자 개발하여 최초 발사하는 한국형발사체, 국민이 정한 그 이름은 「누리」"
HWPX_TITLE = "2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다"
HWPX_SUBTITLE = "진천 국가대표 선수촌 양궁 훈련장 등 살피고 선수들 격려, 이천 장애인 국가대표 선수촌에서 선수들과 함께 식사"


class DocumentPublisher(FakePublisher):
    """What reaches the index: each document's chunks as the real publisher would index them."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, tuple[LongDocument, set[int]]] = {}
        self.removed: list[str] = []

    def publish_document(self, document: LongDocument, disabled_chunks: set[int]) -> int:
        self.documents[document.id] = (document, set(disabled_chunks))
        return sum(1 for _, _, index, _ in document_chunks(document) if index not in disabled_chunks)

    def remove_document(self, doc_id: str) -> None:
        self.documents.pop(doc_id, None)
        self.removed.append(doc_id)

    def texts(self, doc_id: str) -> list[str]:
        document, disabled = self.documents[doc_id]
        return [text for _, text, index, _ in document_chunks(document) if index not in disabled]


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def publisher() -> DocumentPublisher:
    return DocumentPublisher()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, publisher: DocumentPublisher) -> Flask:
    return build(tmp_path, rasa, publisher)


def send(staff: Staff, path: str, name: str, data: bytes, token: bool = True) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), name)}
    if token:
        form["csrf_token"] = staff.token
    return staff.client.post(path, data=form, content_type="multipart/form-data")


def upload(app: Flask, staff: Staff, file: Path, name: str | None = None) -> str:
    response = send(staff, "/admin/documents", name or file.name, file.read_bytes())
    assert response.status_code == 303, response.get_data(as_text=True)
    documents_of(app).wait()
    return str(response.headers["Location"]).rsplit("/", 1)[1]


def documents_of(app: Flask) -> Any:
    with app.test_request_context():
        return documents()


def audit_actions(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    with app.extensions["bokji.database"].session() as session:
        return [(a.action, json.loads(a.detail)) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def scanned_pdf() -> bytes:
    """A PDF of one page with no text layer, as a scanner without OCR writes it (an image, here nothing)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_real_hwp_is_indexed_with_its_headline_and_chunks_listed(app: Flask, publisher: DocumentPublisher) -> None:
    kim = Staff(app, "kim")
    doc_id = upload(app, kim, HWP, "누리 보도자료.hwp")
    page = kim.page(f"/admin/documents/{doc_id}")
    assert "색인 완료" in page and HWP_TITLE in page
    assert "총 길이 | 47.2 m | 25.8 m" in page, "table rows are listed as chunk text"
    document, disabled = publisher.documents[doc_id]
    assert document.title == HWP_TITLE and document.source.title == HWP_TITLE and not disabled
    assert any("“누리”가 선정되었다고 밝혔다" in text for text in publisher.texts(doc_id))
    listing = kim.page("/admin/documents")
    count = len(document_chunks(document))
    assert HWP_TITLE in listing and "색인 완료" in listing and f"{count}/{count}" in listing
    [kept] = (Path(app.extensions["bokji.settings"].data_dir) / "documents" / doc_id / "1").iterdir()
    assert kept.read_bytes() == HWP.read_bytes() and kept.suffix == ".hwp"
    assert audit_actions(app)[-1][0] == "document_upload"


def test_a_real_hwpx_keeps_its_headings_and_chunks_toggle(app: Flask, publisher: DocumentPublisher) -> None:
    kim = Staff(app, "kim")
    doc_id = upload(app, kim, HWPX)
    page = kim.page(f"/admin/documents/{doc_id}")
    assert f"{HWPX_TITLE} &gt; {HWPX_SUBTITLE}" in page, "the heading path a chunk sits under"
    first = publisher.texts(doc_id)[0]
    response = kim.post(f"/admin/documents/{doc_id}/chunks/0", {"enabled": "0"})
    assert response.status_code == 303
    assert publisher.documents[doc_id][1] == {0} and first not in publisher.texts(doc_id)
    page = kim.page(f"/admin/documents/{doc_id}")
    assert "사용 안 함" in page and "조각 1 다시 쓰기" in page
    assert audit_actions(app)[-1] == (
        "document_chunk_toggle",
        {"entry": doc_id, "chunk": 0, "before": {"enabled": True}, "after": {"enabled": False}},
    )
    kim.post(f"/admin/documents/{doc_id}/chunks/0", {"enabled": "1"})
    assert publisher.documents[doc_id][1] == set() and first in publisher.texts(doc_id)


def test_replacing_keeps_the_id_and_drops_the_old_chunks(app: Flask, publisher: DocumentPublisher) -> None:
    kim = Staff(app, "kim")
    doc_id = upload(app, kim, HWP)
    response = send(kim, f"/admin/documents/{doc_id}/replace", HWPX.name, HWPX.read_bytes())
    assert response.status_code == 303
    documents_of(app).wait()
    detail = documents_of(app).get(doc_id)
    assert (detail.version, detail.status, detail.title) == (2, "indexed", HWPX_TITLE)
    texts = " ".join(publisher.texts(doc_id))
    assert "장미란" in texts and "누리" not in texts, "only the new version is in the index"
    assert all("누리" not in chunk.text for chunk in detail.chunk_rows)
    action, entry = audit_actions(app)[-1]
    assert action == "document_replace" and entry["before"]["version"] == 1 and entry["after"]["version"] == 2


def test_a_scanned_pdf_needs_text_and_is_never_indexed_empty(app: Flask, publisher: DocumentPublisher) -> None:
    kim = Staff(app, "kim")
    response = send(kim, "/admin/documents", "스캔 공문.pdf", scanned_pdf())
    documents_of(app).wait()
    doc_id = str(response.headers["Location"]).rsplit("/", 1)[1]
    page = kim.page(f"/admin/documents/{doc_id}")
    assert "텍스트 필요" in page and "텍스트가 없는 스캔 문서예요: OCR 후 다시 올려 주세요" in page
    assert doc_id not in publisher.documents and doc_id in publisher.removed


def test_wrong_or_broken_files_are_refused_in_korean(app: Flask, publisher: DocumentPublisher) -> None:
    kim = Staff(app, "kim")
    response = send(kim, "/admin/documents", "명단.xls", b"\xd0\xcf\x11\xe0 old excel")
    assert response.status_code == 400 and "PDF, DOCX, HWPX, HWP 파일만 올릴 수 있어요." in response.get_data(as_text=True)
    assert documents_of(app).rows() == []
    send(kim, "/admin/documents", "깨진 공고문.hwp", b"this is not an HWP file")
    documents_of(app).wait()
    [row] = documents_of(app).rows()
    assert row.status == "failed" and "HWP 파일을 읽을 수 없어요" in row.error
    assert "실패" in kim.page("/admin/documents") and row.id not in publisher.documents


def test_disable_and_enable_the_whole_document(app: Flask, publisher: DocumentPublisher) -> None:
    kim = Staff(app, "kim")
    doc_id = upload(app, kim, HWPX)
    assert kim.post(f"/admin/documents/{doc_id}/disable", {}).status_code == 303
    assert doc_id not in publisher.documents and "사용 안 함" in kim.page("/admin/documents")
    assert kim.post(f"/admin/documents/{doc_id}/enable", {}).status_code == 303
    documents_of(app).wait()
    assert doc_id in publisher.documents and documents_of(app).get(doc_id).status == "indexed"
    assert [a for a, _ in audit_actions(app)][-2:] == ["document_disable", "document_enable"]


def test_refusals_change_nothing(app: Flask, publisher: DocumentPublisher) -> None:
    kim, jung = Staff(app, "kim"), Staff(app, "jung")
    doc_id = upload(app, kim, HWPX)
    assert jung.get("/admin/documents").status_code == 403  # agents do not edit knowledge
    assert send(jung, "/admin/documents", HWP.name, HWP.read_bytes()).status_code == 403
    assert app.test_client().get("/admin/documents").status_code in (302, 303)  # anonymous: to sign-in
    assert send(kim, "/admin/documents", HWP.name, HWP.read_bytes(), token=False).status_code == 400  # no CSRF token
    assert kim.get("/admin/documents/no-such-doc").status_code == 404
    assert kim.post("/admin/documents/no-such-doc/chunks/0", {"enabled": "0"}).status_code == 404
    assert kim.post(f"/admin/documents/{doc_id}/chunks/9999", {"enabled": "0"}).status_code == 404
    assert kim.post(f"/admin/documents/{doc_id}/chunks/0", {"enabled": "maybe"}).status_code == 400
    big = send(kim, "/admin/documents", "big.pdf", b"%PDF" + b"0" * (31 * 1024 * 1024))
    assert big.status_code == 413
    assert len(documents_of(app).rows()) == 1 and publisher.documents[doc_id][1] == set()
