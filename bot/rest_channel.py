"""Rasa's REST channel (same name and routes), with the web app's request id bound for the turn it handles.

The web app sends each citizen message with ``metadata.request_id`` (channels/metrics.py). Rasa handles the message
in the webhook request's task, so a context variable bound around ``on_new_message`` stamps every log line of the
turn (``bokji.logging_setup.MaskRecords``, configured by bot/logging.yml) and is unbound before the connection
serves its next request. A message without a valid id gets a fresh one, so its lines still group.

credentials.yml names this class instead of ``rest``. It also hands Rasa's console back to bot/logging.yml's
handler just before the server starts (see that file for why).
"""

from __future__ import annotations

import logging
from asyncio import AbstractEventLoop
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, Sanic

from bokji.logging_setup import request_id_bound, route_console_to

CONFIGURED_HANDLER = "bokji"  # the handler's name in bot/logging.yml


def request_id_of(message: UserMessage) -> Any:
    """The request id the web app sent with ``message`` (None when it sent none)."""
    return message.metadata.get("request_id") if isinstance(message.metadata, dict) else None


async def adopt_console(_app: Sanic, _loop: AbstractEventLoop) -> None:
    """Route the root and Sanic's loggers, and Python's warnings, to bot/logging.yml's handler (if Rasa runs with it)."""
    handler = next((h for h in logging.getLogger("rasa").handlers if h.get_name() == CONFIGURED_HANDLER), None)
    if handler is not None:
        route_console_to(handler)
        logging.captureWarnings(True)  # a warning becomes a "py.warnings" line, not plain text on stderr


class RestInput(RasaRestInput):
    """``POST /webhooks/rest/webhook`` as Rasa serves it, each turn under the request id of its metadata."""

    @classmethod
    def name(cls) -> str:
        """The same name as Rasa's, so the web app's URL stays ``/webhooks/rest/webhook``."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's routes, with ``on_new_message`` run under the message's request id."""

        async def handle(message: UserMessage) -> None:
            with request_id_bound(request_id_of(message)):
                await on_new_message(message)

        webhook = super().blueprint(handle)
        webhook.listener(adopt_console, "before_server_start")
        return webhook
