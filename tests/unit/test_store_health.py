"""/healthz counts the documents of whichever store is configured: the embedded file or Weaviate."""

from __future__ import annotations

import socket
from pathlib import Path

from flask.testing import FlaskClient

from channels.app import create_app
from channels.settings import AppSettings
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.ingest import ingest_faqs
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.store_health import StoreHealth
from knowledge.settings import KnowledgeSettings, StoreSettings
from tests.unit.fakes import RecordingPublisher, ScriptedRasa
from tests.unit.test_weaviate_store import make_store, settings_for
from tests.unit.weaviate_fake import FakeWeaviate


def healthz(settings: AppSettings) -> dict:
    client: FlaskClient = create_app(settings, engine=ScriptedRasa(), publisher=RecordingPublisher()).test_client()  # type: ignore[arg-type]
    return client.get("/healthz").get_json()


def test_weaviate_store_is_up_with_its_documents(
    tmp_path: Path, embeddings: E5Embeddings, analyzer: KiwiAnalyzer, subset_entries: list[FaqEntry]
) -> None:
    with FakeWeaviate(analyzer) as fake:
        ingest_faqs(make_store(fake, embeddings, analyzer), embeddings, subset_entries)
        # No embedded file exists here: the old check read only that file and reported the store down.
        knowledge = KnowledgeSettings(store=settings_for(fake, path=tmp_path / "absent.sqlite3"))
        body = healthz(AppSettings(data_dir=tmp_path, knowledge=knowledge))
    assert body["dependencies"]["store"] == "up"
    assert body["documents"] == len(subset_entries)


def test_a_weaviate_that_does_not_answer_is_down_not_an_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    store = StoreSettings(backend="weaviate", weaviate_url=f"http://127.0.0.1:{port}", weaviate_timeout_s=1)
    health = StoreHealth(store)
    assert health.documents() is None
    body = healthz(AppSettings(data_dir=tmp_path, knowledge=KnowledgeSettings(store=store)))
    assert body["status"] == "degraded" and body["dependencies"]["store"] == "down"


def test_embedded_store_counts_its_file_and_a_missing_file_is_down(tmp_path: Path) -> None:
    assert StoreHealth(StoreSettings(path=tmp_path / "none.sqlite3")).documents() is None
    seed = Path(__file__).resolve().parents[2] / "var" / "knowledge.sqlite3"
    if seed.exists():  # `make setup` built it
        assert (StoreHealth(StoreSettings(path=seed)).documents() or 0) > 100
