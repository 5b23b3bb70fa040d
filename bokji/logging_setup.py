"""Log lines of our three processes (web app, action server, Rasa): one JSON object a line, masked, with the turn's request id.

The request id follows one citizen turn across the processes: the web app takes (or makes) ``X-Request-ID``,
sends it to Rasa in the message metadata and to the action server as a header; Rasa binds it for the turn
(bot/rest_channel.py) and hands the metadata to the actions, whose log lines then carry the same id. It lives in
a context variable, so a log call needs no extra argument (``asyncio.to_thread`` copies it into the worker
thread, and so does ``knowledge.answering.streaming.produce_in_background`` for a streamed answer's reader).

Rasa (Python 3.10, its own environment) imports this module only through bot/logging.yml
(``rasa run --logging-config-file``), so it uses the standard library and ``knowledge.rules.privacy`` only.

Every line is masked before it is written: personal identifiers (``knowledge.rules.privacy.mask``) and
``token=`` query values (Rasa reads its token only from the URL, and httpx logs URLs).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from knowledge.rules.privacy import mask

if TYPE_CHECKING:
    import httpx

LogFormat = Literal["json", "text"]
REQUEST_ID_HEADER = "X-Request-ID"
# Short token characters only: an id that is logged and echoed back must not carry a line break or markup.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_TOKEN = re.compile(r"([?&]token=)[^&\s\"']+")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("bokji_request_id", default="")


def redact(text: str) -> str:
    """``text`` with every ``token=`` query value replaced by ``***``."""
    return _TOKEN.sub(r"\1***", text)


def valid_request_id(value: object) -> str | None:
    """``value`` when it is a usable request id (1-64 letters, digits, ``.``, ``_`` or ``-``), else None."""
    return value if isinstance(value, str) and _REQUEST_ID.fullmatch(value) else None


def new_request_id() -> str:
    """A fresh request id (32 hex digits)."""
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The request id of the turn being handled ("" outside one)."""
    return _current.get()


def bind_request_id(value: object) -> str:
    """Make ``value`` (or a fresh id when it is missing or not valid) the current request id; return it."""
    request_id = valid_request_id(value) or new_request_id()
    _current.set(request_id)
    return request_id


def clear_request_id() -> None:
    """No current request id any more (a server thread that handled a request goes back to its pool)."""
    _current.set("")


def send_request_id(request: httpx.Request) -> None:
    """An httpx request hook: our calls to the action server carry the current request id as ``X-Request-ID``."""
    if request_id := current_request_id():
        request.headers.setdefault(REQUEST_ID_HEADER, request_id)


@contextmanager
def request_id_bound(value: object) -> Iterator[str]:
    """The current request id inside the block (restored after)."""
    token = _current.set(valid_request_id(value) or new_request_id())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def readable(message: str) -> str:
    r"""``message`` with ``\u`` escapes decoded when it is a JSON object (Rasa's structlog events), so masking sees Korean."""
    if message.startswith("{") and "\\u" in message:
        try:
            return json.dumps(json.loads(message), ensure_ascii=False)
        except ValueError:
            pass
    return message


class MaskRecords(logging.Filter):
    """Mask personal identifiers and tokens in a record's message and stamp it with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, rewritten."""
        record.msg, record.args = redact(mask(readable(record.getMessage()))), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(mask(record.exc_text))
        record.exc_info = None  # formatted (and masked) above; a formatter must not format it again
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, process, logger, message, request_id [, exception]."""

    def __init__(self, process: str) -> None:
        """``process`` names our process in every line (web, actions)."""
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (Korean kept readable)."""
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self.process,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
        }
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def text_formatter(process: str) -> logging.Formatter:
    """The plain format: time, process, level, request id, message."""
    return logging.Formatter(f"%(asctime)s {process} %(levelname)s [%(request_id)s] %(name)s: %(message)s")


def formatter(process: str, log_format: LogFormat = "json") -> logging.Formatter:
    """The formatter of ``log_format`` for ``process``."""
    return JsonFormatter(process) if log_format == "json" else text_formatter(process)


def formatter_from_env(process: str) -> logging.Formatter:
    """The formatter ``BOKJI_LOG_FORMAT`` selects (json unless it says text): for Rasa, configured from a file."""
    log_format: LogFormat = "text" if os.environ.get("BOKJI_LOG_FORMAT", "").strip().lower() == "text" else "json"
    return formatter(process, log_format)


def configure_logging(process: str, log_format: LogFormat = "json", level: str = "INFO") -> logging.Handler:
    """Send every log record of this process to stdout in ``log_format``, masked (call once in the entrypoint)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(MaskRecords())
    handler.setFormatter(formatter(process, log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


# Loggers that get console handlers of their own after a logging config file is applied: the root (Rasa's CLI
# installs coloredlogs there, rasa/__main__.py) and Sanic's three (``Sanic(...)`` applies sanic.log's defaults).
CONSOLE_LOGGERS = ("", "sanic.root", "sanic.error", "sanic.access")


def route_console_to(handler: logging.Handler, loggers: Iterable[str] = CONSOLE_LOGGERS) -> None:
    """Make ``handler`` the only console handler of ``loggers`` ("" is the root); file handlers stay."""
    for name in loggers:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            console = isinstance(old, logging.StreamHandler) and not isinstance(old, logging.FileHandler)
            if console and old is not handler:
                logger.removeHandler(old)
        if handler not in logger.handlers:
            logger.addHandler(handler)
