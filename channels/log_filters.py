"""Secrets out of log lines: httpx logs each request's full URL, and Rasa reads its auth token only from the URL."""

from __future__ import annotations

import logging

from bokji.logging_setup import redact

__all__ = ["RedactTokens", "redact", "redact_request_logs"]


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
