"""Issue 12's must-show: real HWP and HWPX uploads are searchable and answered from, with the document named as the source.

Both files go through the admin's document service with the real publisher (the configured embeddings, a copy of
the seed index in a temporary file, next to every seed FAQ), then the answering service the action server
builds (knowledge.backends, model backend "none": passages quoted) is asked about each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.admin.documents import DocumentService
from channels.admin.publisher import Publisher
from channels.handoff import Actor
from channels.store.database import Database
from channels.store.models import StaffUser
from knowledge.backends import build_service
from knowledge.settings import KnowledgeSettings, LlmSettings, StoreSettings
from tests.integration.conftest import copy_seed_index

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "documents"  # see PROVENANCE.md there
HWP_TITLE = "우리가 독자 개발하여 최초 발사하는 한국형발사체, 국민이 정한 그 이름은 「누리」"
HWPX_TITLE = "2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다"
CASES = [
    pytest.param(
        "noori-press-release-2018.hwp",
        "한국형발사체 명칭 공모에 국민이 몇 명 참여했나요?",
        HWP_TITLE,
        "6,300",
        id="hwp",
    ),
    pytest.param(
        "mcst-press-release-2024.hwpx",
        "장미란 차관은 진천 선수촌 양궁 훈련장에서 무엇을 하나요?",
        HWPX_TITLE,
        "진천",
        id="hwpx",
    ),
]


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeSettings:
    base = tmp_path_factory.mktemp("hwp-answers")
    store = copy_seed_index(base / "knowledge.sqlite3")
    settings = KnowledgeSettings(store=StoreSettings(path=store), llm=LlmSettings(backend="none"))
    database = Database(f"sqlite:///{base / 'staff.sqlite3'}")
    database.upgrade()
    with database.session() as session:
        session.add(StaffUser(id=1, username="kim", display_name="김편집", role="editor", password_hash="-"))
    documents = DocumentService(database, Publisher.from_settings(settings), base / "data", lambda *_: None)
    editor = Actor(1, "김편집", "editor")
    ids = [documents.upload(editor, f"업로드 {p.name}", p.read_bytes()) for p in (FIXTURES / c.values[0] for c in CASES)]  # type: ignore[operator]
    documents.wait(timeout=600)
    for doc_id in ids:
        row = documents.get(doc_id)
        assert row.status == "indexed" and row.enabled_chunks > 0, (row.status, row.error)
    return settings


@pytest.mark.parametrize(("file_name", "question", "title", "fact"), CASES)
def test_the_bot_answers_from_an_uploaded_hangul_document_and_names_it(
    knowledge: KnowledgeSettings, file_name: str, question: str, title: str, fact: str
) -> None:
    service = build_service(knowledge)
    answer = service.answer(question)
    assert answer.mode == "extractive", (answer.mode, answer.text)
    assert fact in answer.text, answer.text
    assert answer.sources[0].title == title, answer.sources
    for bad in ("\x0b", "\x02", "Clickhere", "HYPERLINK", "출처: 3"):
        assert bad not in answer.text
