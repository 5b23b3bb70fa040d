"""The "what would the bot answer?" route for the knowledge admin: the answer, its mode, the hits, the bars and the decision.

``POST /assist/explain`` with ``{"question": "..."}`` runs the answer path the bot runs for a welfare question
(crisis check, then the answer chain: retrieve, the policy's choice, compose) and answers::

    {"answer": {"text", "mode", "sources"}, "bot_mode", "would_generate", "crisis",
     "hits": [{"doc_id", "title", "kind", "score", "dense", "keyword", "bar", "above_bar"}],
     "thresholds": {... RetrievalSettings}, "decision": DecisionRecord.as_log()}

The model is never asked (a test must answer in well under a second, and it must not take the model from a
citizen): when the bot would compose the answer with its model, ``would_generate`` is true, ``bot_mode`` is
"generated", and the answer shown is the extractive one the bot falls back to when the model is late or
unreliable. The web app asks over HTTP (it never loads the model or the store).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from actions.assist import MAX_TEXT_CHARS, AssistInputError, json_object, source_json
from knowledge.answering.chain import AnswerChain
from knowledge.answering.service import KnowledgeService
from knowledge.domain.answer import Answer
from knowledge.domain.decision import DecisionRecord
from knowledge.rules.crisis import crisis_reply, detect_crisis


@dataclass(frozen=True)
class ExplainRequest:
    """A checked request: the question to try."""

    question: str

    @classmethod
    def parse(cls, body: bytes) -> ExplainRequest:
        """Read and check the JSON body.

        Raises:
            AssistInputError: the body is too large, not a JSON object, or the question is missing or too long.
        """
        data = json_object(body, '{"question": ...}')
        question = data.get("question")
        if not isinstance(question, str) or not question.strip():
            raise AssistInputError(400, "missing_question", '"question" must be a non-empty string')
        if len(question) > MAX_TEXT_CHARS:
            raise AssistInputError(413, "question_too_long", f'"question" is longer than {MAX_TEXT_CHARS} characters')
        return cls(question.strip())


class Explainer:
    """The bot's answer path for one question, with the model left out and everything that decided it."""

    def __init__(self, service: KnowledgeService) -> None:
        """Share the service's retriever, policy and composer in a chain without a model (nothing is loaded here)."""
        self.service = service
        self.chain = AnswerChain(service.retriever, service.policy, service.composer, None, service.chain.settings)

    def explain(self, question: str) -> dict[str, Any]:
        """What a citizen asking ``question`` (as a first message) would be answered, and why."""
        if (crisis := detect_crisis(question)) is not None:
            reply = crisis_reply(crisis, self.service.helplines)
            record = DecisionRecord(mode=reply.mode, reason="crisis")
            return self._result(reply, record, crisis=crisis.kind, would_generate=False)
        answer, record = self.chain.invoke(question)
        # Without a model the policy copies sentences ("no_model") where the bot's model would compose.
        would_generate = self.service.llm is not None and record.reason == "no_model"
        if would_generate:
            record.model_skipped = "explain_without_model"
        return self._result(answer, record, crisis="", would_generate=would_generate)

    def _result(self, answer: Answer, record: DecisionRecord, *, crisis: str, would_generate: bool) -> dict[str, Any]:
        settings = self.service.settings
        hits = []
        for hit in record.hits:
            bar = settings.document_min_dense if hit.kind == "document" else settings.faq_min_dense
            hits.append(
                {
                    "doc_id": hit.doc_id,
                    "title": hit.title,
                    "kind": hit.kind,
                    "score": hit.score,
                    "dense": hit.dense,
                    "keyword": hit.keyword,
                    "bar": bar,
                    "above_bar": hit.dense >= bar,
                }
            )
        return {
            "answer": {
                "text": answer.text,
                "mode": answer.mode,
                "sources": [source_json(s) for s in answer.sources],
                "doc_id": answer.doc_id,
                "fallback": answer.fallback,
            },
            "bot_mode": "generated" if would_generate else answer.mode,
            "would_generate": would_generate,
            "crisis": crisis,
            "hits": hits,
            "thresholds": settings.model_dump(),
            "decision": record.as_log(),
        }


def add_explain_route(app: Sanic, service: KnowledgeService) -> None:
    """Register ``POST /assist/explain`` on the action server."""
    explainer = Explainer(service)

    async def explain(request: Request) -> HTTPResponse:
        try:
            parsed = ExplainRequest.parse(request.body)
        except AssistInputError as exc:
            return json_response({"error": exc.code, "message": exc.message}, status=exc.status)
        # Embedding and Kiwi take CPU time: keep the event loop (answer streams) running meanwhile.
        result = await asyncio.to_thread(explainer.explain, parsed.question)
        return json_response(result)

    app.add_route(explain, "/assist/explain", methods=["POST"], name="assist_explain")
