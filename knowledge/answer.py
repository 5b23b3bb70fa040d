"""The answer service: the one call the action server makes to answer a welfare question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from langchain_core.embeddings import Embeddings

from knowledge.documents import FaqEntry, Helpline, Source
from knowledge.embeddings import as_vector
from knowledge.settings import RetrievalSettings
from knowledge.store import Hit, KnowledgeStore, SearchFilter
from knowledge.text import normalize

Mode = Literal["faq", "generated", "none"]

_YEAR = re.compile(r"(20\d\d)\s*년")

# Hits this close to the confidence bar are offered as "did you mean" suggestions.
_SUGGESTION_SLACK = 0.06
_MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Answer:
    """What the bot says, where it comes from, and how sure it is."""

    text: str
    sources: tuple[Source, ...]
    confidence: float
    mode: Mode
    doc_id: str | None = None
    suggestions: tuple[str, ...] = field(default_factory=tuple)


class KnowledgeService:
    """Retrieve from the store and answer with the curated FAQ text, or say honestly we cannot."""

    def __init__(
        self,
        store: KnowledgeStore,
        embeddings: Embeddings,
        settings: RetrievalSettings,
        helplines: dict[str, Helpline],
    ) -> None:
        """Wire the parts; nothing is loaded or fetched here."""
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self.helplines = helplines

    def search(self, question: str, *, k: int | None = None, on_date: date | None = None) -> list[Hit]:
        """Hybrid search for a question over the deployment's tenants."""
        text = normalize(question)
        if not text:
            return []
        where = SearchFilter(tenants=tuple(self.settings.tenants), on_date=on_date or date.today())
        return self.store.search(
            text,
            as_vector(self.embeddings, text),
            alpha=self.settings.alpha,
            k=k or self.settings.top_k,
            where=where,
        )

    def is_confident(self, question: str, hits: list[Hit]) -> bool:
        """Whether the top hit is close enough to answer with its curated text.

        A year the citizen names ("2027년") must appear in the entry: the 2026 figure is not an
        answer to a question about another year.
        """
        if not hits or hits[0].dense < self.settings.faq_min_dense:
            return False
        entry_text = f"{hits[0].payload.get('question', '')} {hits[0].payload.get('answer', '')}"
        if any(year not in entry_text for year in _YEAR.findall(question)):
            return False
        margin = hits[0].score - hits[1].score if len(hits) > 1 else 1.0
        return margin >= self.settings.faq_min_margin

    def answer(self, question: str, *, on_date: date | None = None) -> Answer:
        """Answer a citizen's question from the knowledge base."""
        hits = self.search(question, on_date=on_date)
        if not self.is_confident(question, hits):
            return self.cannot_answer(hits)
        entry = FaqEntry.model_validate(hits[0].payload)
        text = entry.answer
        if entry.needs_review:
            text += "\n\n※ 이 안내의 일부 내용은 공식 고시로 다시 확인하고 있어요. 신청 전에 주민센터나 129에 꼭 확인해 주세요."
        return Answer(
            text=text,
            sources=(entry.as_source(),),
            confidence=round(hits[0].dense, 4),
            mode="faq",
            doc_id=entry.id,
            suggestions=self._suggestions(hits[1:]),
        )

    def _suggestions(self, hits: list[Hit]) -> tuple[str, ...]:
        bar = self.settings.faq_min_dense - _SUGGESTION_SLACK
        return tuple(str(h.payload["question"]) for h in hits if h.dense >= bar)[:_MAX_SUGGESTIONS]

    def cannot_answer(self, hits: list[Hit] | None = None) -> Answer:
        """An honest "not found", with a human and the welfare call center as the way forward."""
        line = self.helplines["welfare_call_center"]
        text = (
            "죄송해요. 말씀하신 내용은 제가 가진 복지 안내 자료에서 확인할 수 없었어요. "
            f"'상담원 연결'을 누르시거나 {line.name}({line.number}, {line.hours})에 문의해 주세요."
        )
        suggestions = self._suggestions(hits or [])
        if suggestions:
            text += " 혹시 아래 질문 중에 찾으시는 내용이 있나요?"
        return Answer(
            text=text,
            sources=(line.as_source(),),
            confidence=round(hits[0].dense, 4) if hits else 0.0,
            mode="none",
            suggestions=suggestions,
        )
