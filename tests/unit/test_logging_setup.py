"""Our processes' log lines: one JSON object a line, masked, carrying the request id of the turn."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from bokji.logging_setup import (
    configure_logging,
    current_request_id,
    request_id_bound,
    route_console_to,
    valid_request_id,
)
from knowledge.answering.streaming import EventLog, produce_in_background
from tests.unit.fakes import ScriptedRasa


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Configure logging as an entrypoint does, writing into a buffer; restore the root logger after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    handler = configure_logging("web", "json")
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_the_fields_ops_search_by(captured: io.StringIO) -> None:
    with request_id_bound("turn-42"):
        logging.getLogger("channels.conversation").warning("rasa took %d ms", 1200)
    (line,) = lines(captured)
    assert line["level"] == "WARNING"
    assert line["process"] == "web"
    assert line["logger"] == "channels.conversation"
    assert line["message"] == "rasa took 1200 ms"
    assert line["request_id"] == "turn-42"
    assert str(line["time"]).endswith("+00:00")


def test_personal_data_and_tokens_never_reach_the_line(captured: io.StringIO) -> None:
    log = logging.getLogger("httpx")
    log.info("citizen said 제 번호는 %s 이고 주민번호 %s", "010-1234-5678", "900101-1234567")
    log.info("HTTP Request: GET http://127.0.0.1:5005/conversations/x/tracker?token=s3cret&a=1")
    try:
        raise ValueError("bad phone 010-9876-5432")
    except ValueError:
        log.exception("failed for 홍길동 010-2222-3333")
    text = captured.getvalue()
    for secret in ("010-1234-5678", "900101-1234567", "s3cret", "010-9876-5432", "010-2222-3333"):
        assert secret not in text
    first, second, third = lines(captured)
    assert "[전화번호]" in str(first["message"]) and "[주민등록번호]" in str(first["message"])
    assert "token=***" in str(second["message"])
    assert "ValueError" in str(third["exception"])


def test_korean_stays_readable_and_a_line_break_cannot_forge_a_line(captured: io.StringIO) -> None:
    logging.getLogger("x").info('기초연금 문의\n{"level": "ERROR"}')
    (line,) = lines(captured)  # still exactly one line
    assert "기초연금" in captured.getvalue()
    assert line["request_id"] is None


def test_the_text_format_names_the_process_and_request_id() -> None:
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        handler = configure_logging("actions", "text")
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        with request_id_bound("abc"):
            logging.getLogger("actions.answer").info("answered 010-1234-5678")
        assert " actions INFO [abc] actions.answer: answered [전화번호]" in stream.getvalue()
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)


@pytest.mark.parametrize(
    ("given", "kept"),
    [("a1B2-c3_d4.e5", True), ("x" * 64, True), ("x" * 65, False), ("", False), ("id\nInjected", False),
     ("<script>", False), ("한글", False), (42, False)],
)  # fmt: skip
def test_only_short_token_ids_are_accepted(given: object, kept: bool) -> None:
    assert (valid_request_id(given) == given) is kept
    with request_id_bound(given) as bound:
        assert bound == (given if kept else bound)
        assert len(bound) == (len(given) if kept and isinstance(given, str) else 32)
    assert current_request_id() == ""


def test_the_request_id_follows_work_into_a_thread() -> None:
    """The action server answers in ``asyncio.to_thread``: a line logged there carries the turn's id."""

    async def turn() -> str:
        with request_id_bound("from-rasa"):
            return await asyncio.to_thread(current_request_id)

    assert asyncio.run(turn()) == "from-rasa"


def test_our_calls_to_the_action_server_carry_the_request_id() -> None:
    """The explain and assist clients send the turn's id, so the action server logs the call under it."""
    import httpx

    from channels.admin.explain_client import ExplainClient
    from channels.assist.client import AssistClient

    seen: list[str | None] = []

    def action_server(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Request-ID"))
        if request.url.path == "/assist/suggestions":
            return httpx.Response(200, json={"suggestions": []})
        return httpx.Response(200, json={"mode": "none", "text": "", "sources": [], "decision": {}})

    transport = httpx.MockTransport(action_server)
    explain = ExplainClient("http://actions", transport=transport)
    assist = AssistClient("http://actions", "http://rasa", transport=transport)
    with request_id_bound("staff-7"):
        for call in (lambda: explain.explain("기초연금"), lambda: assist.suggestions("기초연금", 3)):
            try:
                call()
            except Exception:  # noqa: BLE001 - only the header matters here, not how the client reads the stub
                pass
    assert seen == ["staff-7", "staff-7"]


# Rasa's lines: bot/logging.yml as `rasa run --logging-config-file` applies it (plain dictConfig; the formatter and
# filter are ours, so the app environment can check the file without Rasa).
RASA_LOGGING = Path(__file__).resolve().parents[2] / "bot" / "logging.yml"
SANIC = ("sanic.root", "sanic.error", "sanic.access")


@pytest.fixture
def rasa_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], tuple[logging.Handler, io.StringIO]]]:
    """Apply bot/logging.yml under a BOKJI_LOG_FORMAT; its handler writes into a buffer. Logging is restored after."""
    touched = [logging.getLogger(name) for name in ("", "rasa", *SANIC)]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in touched]

    def apply(log_format: str) -> tuple[logging.Handler, io.StringIO]:
        monkeypatch.setenv("BOKJI_LOG_FORMAT", log_format)
        logging.config.dictConfig(yaml.safe_load(RASA_LOGGING.read_text(encoding="utf-8")))
        (handler,) = logging.getLogger("rasa").handlers
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        return handler, stream

    yield apply
    for lg, handlers, level, propagate in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


def test_rasa_logs_the_same_json_shape_masked_with_the_turn_id(rasa_logging: Callable[..., Any]) -> None:
    _, stream = rasa_logging("json")
    with request_id_bound("turn-from-web"):
        logging.getLogger("rasa.core.processor").error("action failed for 010-1234-5678")
    logging.getLogger("rasa.core.processor").debug("parse data: 기초연금 문의")  # Rasa's message dumps: DEBUG
    (line,) = lines(stream)
    assert {k: line[k] for k in ("level", "process", "logger", "request_id")} == {
        "level": "ERROR", "process": "rasa", "logger": "rasa.core.processor", "request_id": "turn-from-web"
    }  # fmt: skip
    assert line["message"] == "action failed for [전화번호]"
    assert "기초연금" not in stream.getvalue()


def test_rasas_structlog_events_are_masked_despite_their_escapes(rasa_logging: Callable[..., Any]) -> None:
    """Rasa renders structlog events as JSON with ``\\u`` escapes; a name in them is still found and masked."""
    _, stream = rasa_logging("json")
    event = {"text": "제 이름은 홍길동이고 010-1234-5678", "event": "rest.message.received.failure", "level": "error"}
    logging.getLogger("rasa.core.channels.rest").error(json.dumps(event))  # what structlog's JSONRenderer hands over
    (line,) = lines(stream)
    assert json.loads(str(line["message"])) == {**event, "text": "제 이름은 [이름]이고 [전화번호]"}


def test_rasa_follows_bokji_log_format_text(rasa_logging: Callable[..., Any]) -> None:
    _, stream = rasa_logging("text")
    with request_id_bound("t-1"):
        logging.getLogger("rasa.server").warning("slow")
    assert " rasa WARNING [t-1] rasa.server: slow" in stream.getvalue()


def test_the_console_handlers_rasa_and_sanic_add_later_are_replaced(rasa_logging: Callable[..., Any], tmp_path: Path) -> None:
    """Rasa's CLI puts coloredlogs on the root after the file is applied and Sanic adds its own; both go back to ours."""
    handler, stream = rasa_logging("json")
    plain = io.StringIO()
    root = logging.getLogger()
    root.handlers[:] = [logging.StreamHandler(plain)]  # what coloredlogs.install leaves
    log_file = logging.FileHandler(tmp_path / "rasa.log")  # `rasa run --log-file` stays
    for name in SANIC:
        logging.getLogger(name).handlers[:] = [logging.StreamHandler(plain)]
        logging.getLogger(name).propagate = False
    logging.getLogger("sanic.error").addHandler(log_file)
    route_console_to(handler)
    logging.getLogger("sanic.error").error("Exception occurred while handling uri")
    logging.getLogger("bot.components.kiwi_tokenizer").warning("user dictionary reloaded")
    assert plain.getvalue() == ""
    assert [(line["logger"], line["process"]) for line in lines(stream)] == [
        ("sanic.error", "rasa"), ("bot.components.kiwi_tokenizer", "rasa")
    ]  # fmt: skip
    assert "Exception occurred" in (tmp_path / "rasa.log").read_text(encoding="utf-8")
    log_file.close()


def test_a_streamed_answers_background_reader_logs_under_the_turns_id(captured: io.StringIO) -> None:
    """The reader outlives the request: the server thread's id is cleared, the reader's lines keep the turn's."""
    request_over = threading.Event()

    def answer() -> Iterator[str]:
        request_over.wait(5)
        logging.getLogger("channels.conversation").warning("answer stream ended early")
        yield "final"

    log: EventLog[str] = EventLog()
    with request_id_bound("turn-streamed"):
        reader = produce_in_background(answer(), log, str, name="answer-follow")
    assert current_request_id() == ""  # the request is over for the server thread
    request_over.set()
    reader.join(5)
    (line,) = lines(captured)
    assert line["request_id"] == "turn-streamed"
    assert list(log.follow(1)) == ["final"]


def test_the_crisis_notice_reaches_rasa_under_the_turns_id(client: FlaskClient, rasa: ScriptedRasa) -> None:
    """Rasa hears of a crisis from a background thread; its call (and Rasa's lines) carry the citizen's turn id."""
    client.post(
        "/api/v1/chat", json={"session_id": "t1", "text": "너무 힘들어서 죽고 싶어요"}, headers={"X-Request-ID": "crisis-7"}
    )
    deadline = time.monotonic() + 5
    while not rasa.metadata and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rasa.metadata == [{"request_id": "crisis-7"}]
