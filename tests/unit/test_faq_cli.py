"""`bokji ingest` imports FAQ files into the staff database and derives the index; `bokji export` writes it out."""

from __future__ import annotations

from pathlib import Path

import pytest

from bokji.cli import main
from bokji.faq_database import faq_service, staff_database
from channels.handoff import Actor
from channels.store.models import StaffUser
from knowledge.ingestion.loaders import load_knowledge
from knowledge.retrieval.sqlite_store import SqliteStore
from tests.unit.test_loaders import HEADER, ROWS, write_csv


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__PATH", str(tmp_path / "kb.sqlite3"))
    monkeypatch.setenv("BOKJI_KNOWLEDGE__LLM__BACKEND", "none")
    monkeypatch.setenv("BOKJI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _admin() -> Actor:
    database = staff_database()
    with database.session() as session:
        user = StaffUser(username="park", display_name="박관리", role="admin", password_hash="x")
        session.add(user)
        session.flush()
        return Actor(user.id, user.display_name, "admin")


def test_ingest_imports_into_the_database_and_never_undoes_an_admin_edit(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faq = write_csv(env / "city.csv", HEADER, ROWS)
    assert main(["ingest", str(faq)]) == 0
    assert "staff database: 2 new" in capsys.readouterr().out
    database = staff_database()
    service = faq_service(database)
    assert sorted(e.id for e in service.export()) == sorted(r[0] for r in ROWS)
    assert all(v.note.endswith("에서 가져옴") for v in service.versions(ROWS[0][0]))

    admin = _admin()
    detail = service.get(ROWS[0][0])
    edited = {**detail.entry, "answer": "관리 화면에서 고친 답변입니다."}
    detail = service.save(admin, detail.id, edited, detail.lock_version)
    service.approve(admin, detail.id, detail.lock_version)
    service.unpublish(admin, ROWS[1][0])

    assert main(["ingest", "--prune", str(faq)]) == 0  # the same file again, as `make setup` does
    assert "2 kept as edited in the admin" in capsys.readouterr().out
    assert service.get(ROWS[0][0]).entry["answer"] == "관리 화면에서 고친 답변입니다."
    assert service.get(ROWS[1][0]).status == "unpublished"
    store = SqliteStore.document_count(env / "kb.sqlite3")
    assert store == 1  # the index holds what is published: the edited entry only


def test_prune_unpublishes_file_entries_that_left_the_files(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faq = write_csv(env / "city.csv", HEADER, ROWS)
    assert main(["ingest", str(faq)]) == 0
    write_csv(faq, HEADER, ROWS[:1])
    assert main(["ingest", "--prune", str(faq)]) == 0
    assert "1 no longer in the files unpublished" in capsys.readouterr().out
    assert [e.id for e in faq_service(staff_database()).export()] == [ROWS[0][0]]
    assert SqliteStore.document_count(env / "kb.sqlite3") == 1


@pytest.mark.parametrize("fmt", ["yaml", "xlsx"])
def test_export_re_imports_to_the_same_content(env: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    faq = write_csv(env / "city.csv", HEADER, ROWS)
    assert main(["ingest", str(faq)]) == 0
    out = env / f"faq.{fmt}"
    assert main(["export", "--format", fmt, str(out)]) == 0
    assert f"2 published FAQs written to {out}" in capsys.readouterr().out
    reread = load_knowledge(out)
    assert reread.problems == []
    assert reread.faqs == faq_service(staff_database()).export()
    assert reread.faqs == load_knowledge(faq).faqs
