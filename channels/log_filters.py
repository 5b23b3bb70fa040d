"""Secrets out of log lines: httpx logs each request's full URL, and Rasa reads its auth token only from the URL."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"([?&]token=)[^&\s\"']+")


def redact(text: str) -> str:
    """``text`` with every ``token=`` query value replaced by ``***``."""
    return _TOKEN.sub(r"\1***", text)


class RedactTokens(logging.Filter):
    """Rewrite a record whose message holds a ``token=`` query value (the tracker read sends Rasa's token so)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, with the token masked."""
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = redact(message), ()
        return True


def redact_request_logs() -> None:
    """Mask tokens in httpx's request log lines (call once in the entrypoint)."""
    logging.getLogger("httpx").addFilter(RedactTokens())
