"""`bokji ingest --rebuild --collection NEW`: a Weaviate index rebuilt beside the live one, switched only after a count check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bokji.cli import main
from knowledge.backends import weaviate_store
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.settings import ProcessSettings
from tests.unit.test_loaders import HEADER, ROWS, write_csv
from tests.unit.weaviate_fake import FakeWeaviate


@pytest.fixture
def fake(analyzer: KiwiAnalyzer) -> Iterator[FakeWeaviate]:
    with FakeWeaviate(analyzer) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, fake: FakeWeaviate, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__BACKEND", "weaviate")
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__WEAVIATE_URL", f"http://127.0.0.1:{fake.http_port}")
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__WEAVIATE_GRPC_PORT", str(fake.grpc_port))
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__WEAVIATE_COLLECTION", "BokjiKnowledge")
    monkeypatch.setenv("BOKJI_KNOWLEDGE__LLM__BACKEND", "none")
    monkeypatch.setenv("BOKJI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_rebuild_into_a_new_collection_leaves_the_live_one_serving(
    env: Path, embeddings: E5Embeddings, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = write_csv(env / "city.csv", HEADER, ROWS)
    assert main(["ingest", str(faq)]) == 0
    assert "store holds 2 documents" in capsys.readouterr().out

    assert main(["ingest", "--rebuild", "--collection", "BokjiKnowledge2", str(faq)]) == 0
    out = capsys.readouterr().out
    assert "count check passed: BokjiKnowledge2 holds 2 documents (live BokjiKnowledge: 2)" in out
    assert "BOKJI_KNOWLEDGE__STORE__WEAVIATE_COLLECTION=BokjiKnowledge2" in out

    # The live collection was never emptied while the new one was built.
    live = weaviate_store(ProcessSettings().knowledge, embeddings)
    assert live.name == "BokjiKnowledge" and live.count_existing() == 2


def test_a_new_collection_with_fewer_documents_than_the_live_one_fails_the_check(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(write_csv(env / "city.csv", HEADER, ROWS))]) == 0
    smaller = write_csv(env / "one.csv", HEADER, ROWS[:1])
    capsys.readouterr()
    assert main(["ingest", "--rebuild", "--collection", "BokjiKnowledge3", "--prune", str(smaller)]) == 3
    assert "count check failed: BokjiKnowledge3 holds 1 documents, the live BokjiKnowledge 2" in capsys.readouterr().err


def test_the_live_collection_cannot_be_named(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--rebuild", "--collection", "bokjiKnowledge", str(write_csv(env / "c.csv", HEADER, ROWS))]) == 2
    assert "is the live collection" in capsys.readouterr().err


def test_collection_needs_the_weaviate_store(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__BACKEND", "embedded")
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__PATH", str(env / "kb.sqlite3"))
    assert main(["ingest", "--collection", "BokjiKnowledge2", str(write_csv(env / "c.csv", HEADER, ROWS))]) == 2
    assert "--collection names a Weaviate collection" in capsys.readouterr().err
