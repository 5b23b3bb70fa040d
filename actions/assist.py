"""Suggested replies for a staff member: what the knowledge base says about the citizen's last question.

``POST /assist/suggestions`` with ``{"text": "<masked question>", "limit": 3}`` answers
``{"suggestions": [{"text", "sources", "kind", "score"}]}``: an FAQ entry's curated answer as written,
or sentences copied from a document passage, each with its source. Only the retriever runs (no model):
it is fast, and nothing in a suggestion is invented. The web app's console asks for them over HTTP.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from knowledge.answering.grounding import best_extract
from knowledge.answering.service import KnowledgeService
from knowledge.domain.faq import FaqEntry
from knowledge.domain.hit import Hit
from knowledge.domain.source import Source

MAX_BODY_BYTES = 8 * 1024
MAX_TEXT_CHARS = 1000
MAX_LIMIT = 5
DEFAULT_LIMIT = 3
# Sentences quoted from a document passage (its whole chunk would be too long to insert as a reply).
QUOTED_SENTENCES = 3
# An FAQ this far below the bar at which the bot answers with it is still worth a person's look; below
# that, questions about nothing in the FAQ ("안녕하세요", "3명이요") score alike (about 0.87-0.89 with e5).
FAQ_SLACK = 0.04


class AssistInputError(ValueError):
    """A request the route refuses, with its HTTP status, a stable code and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep what the 4xx answer says."""
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_object(body: bytes, shape: str) -> dict[str, Any]:
    """The request body as a JSON object, within the size limit.

    Raises:
        AssistInputError: the body is too large, not JSON, or not an object (``shape`` says what is expected).
    """
    if len(body) > MAX_BODY_BYTES:
        raise AssistInputError(413, "too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise AssistInputError(400, "bad_json", "the request body is not JSON") from exc
    if not isinstance(data, dict):
        raise AssistInputError(400, "bad_request", f"expected a JSON object {shape}")
    return data


@dataclass(frozen=True)
class SuggestionRequest:
    """A checked request: the question and how many suggestions at most."""

    text: str
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, body: bytes) -> SuggestionRequest:
        """Read and check the JSON body.

        Raises:
            AssistInputError: the body is too large, not a JSON object, or its fields are wrong.
        """
        data = json_object(body, '{"text": ..., "limit": ...}')
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise AssistInputError(400, "missing_text", '"text" must be a non-empty string')
        if len(text) > MAX_TEXT_CHARS:
            raise AssistInputError(413, "text_too_long", f'"text" is longer than {MAX_TEXT_CHARS} characters')
        limit = data.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise AssistInputError(400, "bad_limit", f'"limit" must be a whole number from 1 to {MAX_LIMIT}')
        return cls(text.strip(), limit)


def source_json(source: Source) -> dict[str, str]:
    """A source as the channels show it: title, url, date, and where in a document (only when known)."""
    shown = {"title": source.title, "url": source.url, "updated_at": source.updated_at}
    if source.location:
        shown["location"] = source.location
    return shown


def suggestion(question: str, hit: Hit) -> dict[str, Any] | None:
    """One hit as a reply a person may send: the FAQ answer as written, or the passage sentences closest to the question."""
    item = hit.item
    if isinstance(item, FaqEntry):
        text, kind = item.answer, "faq"
    else:
        text, _ = best_extract(question, [item.body], max_sentences=QUOTED_SENTENCES)
        kind = "document"
    if not text.strip():
        return None
    return {
        "text": text,
        "sources": [source_json(item.as_source())],
        "kind": kind,
        "score": round(hit.dense, 4),
        "needs_review": item.needs_review,
    }


def suggest(service: KnowledgeService, request: SuggestionRequest) -> list[dict[str, Any]]:
    """The best hits for the question that are close enough to be worth reading, best first."""
    hits = service.search(request.text, k=max(request.limit, service.settings.top_k))
    found = [s for hit in hits if hit.dense >= _floor(service, hit) and (s := suggestion(request.text, hit)) is not None]
    return found[: request.limit]


def _floor(service: KnowledgeService, hit: Hit) -> float:
    """How close a hit must be: the bar the bot copies a passage at, or a little under its FAQ bar."""
    settings = service.settings
    return settings.document_min_dense if hit.is_document else settings.faq_min_dense - FAQ_SLACK


def add_assist_route(app: Sanic, service: KnowledgeService) -> None:
    """Register ``POST /assist/suggestions`` on the action server."""

    async def suggestions(request: Request) -> HTTPResponse:
        try:
            parsed = SuggestionRequest.parse(request.body)
        except AssistInputError as exc:
            return json_response({"error": exc.code, "message": exc.message}, status=exc.status)
        # Embedding the question takes CPU time: keep the event loop (answer streams) running meanwhile.
        found = await asyncio.to_thread(suggest, service, parsed)
        return json_response({"suggestions": found})

    app.add_route(suggestions, "/assist/suggestions", methods=["POST"], name="assist_suggestions")
