"""The web app's /metrics (what Prometheus scrapes, and who may) and the request id that follows a turn."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from channels.app import create_app
from channels.handoff import HandoffService, channel_of
from channels.settings import AppSettings
from channels.store.models import Handoff, utcnow
from tests.unit.fakes import RecordingPublisher, ScriptedRasa


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def samples(client: FlaskClient, **kwargs: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The scrape as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def chat(client: FlaskClient, text: str = "기초연금 얼마예요?", **headers: str) -> object:
    return client.post("/api/v1/chat", json={"session_id": "t1", "text": text}, headers=headers)


def test_turns_are_counted_by_channel_and_mode_and_rasa_is_timed(client: FlaskClient, rasa: ScriptedRasa) -> None:
    chat(client)
    chat(client)
    rasa.down = True
    chat(client, "두 번째 질문이에요")
    found = samples(client)
    channel = channel_of(rasa.sent[0][0])  # the sender id says which channel a turn came through
    assert found[("bokji_turns_total", (("channel", channel), ("mode", "faq")))] == 2
    assert found[("bokji_turns_total", (("channel", channel), ("mode", "unavailable")))] == 1
    assert found[("bokji_rasa_seconds_count", ())] == 3
    assert found[("bokji_rasa_failures_total", ())] == 1


def test_a_crisis_is_counted_as_such_without_the_text(client: FlaskClient) -> None:
    chat(client, "너무 힘들어서 죽고 싶어요")
    body = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'bokji_turns_total\{channel="(web|api)",mode="crisis"\} 1\.0', body)
    assert "죽고" not in body and "t1" not in body  # no citizen text or id in any label


def test_the_handoff_queue_is_read_at_scrape_time(app: Flask, client: FlaskClient) -> None:
    assert samples(client)[("bokji_handoffs_waiting", ())] == 0
    handoffs: HandoffService = app.extensions["bokji.handoffs"]
    handoffs.request("web:a", "requested")
    view, _ = handoffs.request("web:b", "requested")
    with app.extensions["bokji.database"].session() as session:
        session.get(Handoff, view.id).created_at = utcnow() - timedelta(minutes=10)
    found = samples(client)
    assert found[("bokji_handoffs_waiting", ())] == 2
    assert 600 <= found[("bokji_handoff_oldest_wait_seconds", ())] < 660


def test_process_restarts_come_from_the_supervisors_file(tmp_path: Path, rasa: ScriptedRasa) -> None:
    counts = tmp_path / "restarts.json"
    settings = AppSettings(data_dir=tmp_path, process_restarts_file=counts)
    client = create_app(settings, engine=rasa, publisher=RecordingPublisher()).test_client()  # type: ignore[arg-type]
    assert not any(name == "bokji_process_restarts_total" for name, _ in samples(client))
    counts.write_text(json.dumps({"rasa": 2, "actions": 0, "bogus": "x"}), encoding="utf-8")
    found = samples(client)
    assert found[("bokji_process_restarts_total", (("process", "rasa"),))] == 2
    assert found[("bokji_process_restarts_total", (("process", "actions"),))] == 0
    assert ("bokji_process_restarts_total", (("process", "bogus"),)) not in found
    counts.write_text("{not json", encoding="utf-8")
    assert client.get("/metrics").status_code == 200  # a half-written file never breaks the scrape


def test_without_a_token_only_direct_loopback_requests_may_scrape(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 404


def test_with_a_token_the_bearer_is_required_from_anywhere(tmp_path: Path, rasa: ScriptedRasa) -> None:
    settings = AppSettings(data_dir=tmp_path, metrics_token="scrape-secret-123")
    client = create_app(settings, engine=rasa, publisher=RecordingPublisher()).test_client()  # type: ignore[arg-type]
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"}, environ_base=remote)
    assert ok.status_code == 200 and b"bokji_turns_total" in ok.data


def test_a_valid_request_id_reaches_rasa_and_comes_back(client: FlaskClient, rasa: ScriptedRasa) -> None:
    response = chat(client, **{"X-Request-ID": "lb-7f3a.01_x"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.01_x"  # type: ignore[attr-defined]
    assert rasa.metadata[-1] == {"request_id": "lb-7f3a.01_x"}


@pytest.mark.parametrize("given", ["", "has space", "x" * 65, "<script>", "한글아이디"])
def test_an_unusable_request_id_is_replaced_by_a_fresh_one(client: FlaskClient, rasa: ScriptedRasa, given: str) -> None:
    response = client.post("/api/v1/chat", json={"session_id": "t1", "text": "안녕하세요"}, headers=[("X-Request-ID", given)])
    made = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert rasa.metadata[-1] == {"request_id": made}


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    first, second = client.get("/healthz"), client.get("/no-such-page")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_kakao_answer_computed_in_the_background_keeps_the_request_id(tmp_path: Path, rasa: ScriptedRasa) -> None:
    from tests.kakao_support import TOKEN, make_app, skill_request

    app = make_app(tmp_path, rasa)  # type: ignore[arg-type]
    response = app.test_client().post(
        "/kakao/skill",
        json=skill_request("기초연금 얼마예요?"),
        headers={"X-Bokji-Kakao-Token": TOKEN, "X-Request-ID": "kakao-turn-1"},
    )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "kakao-turn-1"
    assert rasa.metadata == [{"request_id": "kakao-turn-1"}]
    found = samples(app.test_client())
    assert found[("bokji_turns_total", (("channel", "kakao"), ("mode", "faq")))] == 1
