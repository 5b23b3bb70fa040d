"""The answer policy: which mode a question gets from its hits, and the numbers that decided it.

```
top hit confident (close enough, clear lead, in scope)   FAQ entry -> faq      document chunk -> extractive
passages relevant enough to compose from                 model     -> generated  no model     -> extractive
  (an FAQ on top: cosine >= generate_min_dense, nouns in the top passages; a document chunk on top:
   cosine >= document_min_dense, nouns in that chunk itself)
anything else                                            none (an honest "cannot confirm", with a human and 129)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from knowledge.domain.hit import Hit
from knowledge.korean.analyzer import KiwiAnalyzer, KoreanAnalyzer, make_analyzer
from knowledge.rules.scope import scope_reason
from knowledge.settings import RetrievalSettings

Route = Literal["faq", "extractive", "generate", "none"]

_QUESTION_NOUN_TAGS = ("NNG", "NNP", "SL", "SH")
# Passages the model (or the extractive answer) reads to judge coverage.
_COVERAGE_PASSAGES = 3


@dataclass(frozen=True)
class Choice:
    """The route for one question, why, and the values compared with the settings' bars."""

    route: Route
    reason: str
    checks: dict[str, float | bool] = field(default_factory=dict)


class AnswerPolicy:
    """Decide between a curated answer, a passage, the model and an honest "not found" (no I/O, no model)."""

    def __init__(self, settings: RetrievalSettings, analyzer: KoreanAnalyzer | None = None) -> None:
        """Keep the bars; the analyzer (for the noun coverage check) is made on first use if not given."""
        self.settings = settings
        self._analyzer = analyzer

    def analyzer(self) -> KoreanAnalyzer:
        """The analyzer, made on first use (Kiwi unless one was given)."""
        if self._analyzer is None:
            self._analyzer = make_analyzer()
        return self._analyzer

    def scope_analyzer(self) -> KoreanAnalyzer | None:
        """The analyzer the scope rules may share: Kiwi only (they read its proper-noun tags); None makes them use their own."""
        analyzer = self.analyzer()
        return analyzer if isinstance(analyzer, KiwiAnalyzer) else None

    def out_of_scope(self, question: str, hit: Hit) -> str | None:
        """Why no text of ``hit`` can answer ``question`` (a scope rule's name), or None."""
        return scope_reason(question, hit.item.searchable_text(), analyzer=self.scope_analyzer())

    @property
    def thresholds(self) -> dict[str, float]:
        """The bars a decision is held to, for the decision record."""
        s = self.settings
        return {
            "faq_min_dense": s.faq_min_dense,
            "faq_min_margin": s.faq_min_margin,
            "generate_min_dense": s.generate_min_dense,
            "generate_min_coverage": s.generate_min_coverage,
            "document_min_dense": s.document_min_dense,
        }

    def is_confident(self, question: str, hits: Sequence[Hit]) -> bool:
        """Whether the top hit is close enough to answer with its own text.

        A year the citizen names ("2027년") must appear in the entry: the 2026 figure is not an
        answer to a question about another year (and so on for :func:`~knowledge.rules.scope.out_of_scope`).
        """
        if not hits or hits[0].dense < self.settings.faq_min_dense:
            return False
        return self._confident(hits, self.out_of_scope(question, hits[0]))

    def _confident(self, hits: Sequence[Hit], outside: str | None) -> bool:
        """:meth:`is_confident` with the top hit's scope verdict already known (the rules run Kiwi: once per question)."""
        return (
            hits[0].dense >= self.settings.faq_min_dense and outside is None and self.margin(hits) >= self.settings.faq_min_margin
        )

    @staticmethod
    def margin(hits: Sequence[Hit]) -> float:
        """The top hit's fused-score lead over the runner-up (1.0 when it has none)."""
        return hits[0].score - hits[1].score if len(hits) > 1 else 1.0

    def coverage(self, question: str, text: str) -> float:
        """Share of the question's nouns found in ``text`` (1.0 when it has none)."""
        nouns = {m.form for m in self.analyzer().morphemes(question) if m.tag in _QUESTION_NOUN_TAGS}
        return sum(n in text for n in nouns) / len(nouns) if nouns else 1.0

    def may_compose(self, question: str, hits: Sequence[Hit]) -> bool:
        """Whether the top passages are relevant enough to compose (or copy) an answer from them.

        A document chunk on top is held to its own cosine bar: it is embedded as a passage, and a question
        scores lower against a passage than against an FAQ's phrasings of a question (0.88-0.95 for 14
        hand-written questions that a chunk of a DOCX or an HWPX answers, 0.83-0.86 for near misses). Its own text must then hold the question's nouns, not just any of
        the top passages ("청년 마음건강 바우처 작년 예산" is not answered from the voucher's fees).
        """
        if not hits or hits[0].dense < self._compose_bar(hits[0]):
            return False
        return self._composable(question, hits, self.out_of_scope(question, hits[0]))

    def _compose_bar(self, top: Hit) -> float:
        return self.settings.document_min_dense if top.is_document else self.settings.generate_min_dense

    def _composable(self, question: str, hits: Sequence[Hit], outside: str | None) -> bool:
        """:meth:`may_compose` with the top hit's scope verdict already known."""
        top = hits[0]
        # Years and countries must be in the best passage itself: "2025년 ... 얼마였나요?" is not
        # answered from a 2026 entry that mentions 2025 in passing.
        if top.dense < self._compose_bar(top) or outside is not None:
            return False
        passages = hits[:1] if top.is_document else hits[:_COVERAGE_PASSAGES]
        text = " ".join(h.item.searchable_text() for h in passages)
        return self.coverage(question, text) >= self.settings.generate_min_coverage

    def choose(self, question: str, hits: Sequence[Hit], *, model_available: bool) -> Choice:
        """The route for ``question`` given its hits, with the reason and the values compared."""
        if not hits:
            return Choice("none", "no_hits", {})
        checks: dict[str, float | bool] = {"top_dense": round(hits[0].dense, 4), "margin": round(self.margin(hits), 4)}
        outside = self.out_of_scope(question, hits[0])
        checks["in_scope"] = outside is None
        confident = self._confident(hits, outside)
        checks["confident"] = confident
        if confident:
            return Choice(
                "extractive" if hits[0].is_document else "faq",
                "confident_document" if hits[0].is_document else "confident_faq",
                checks,
            )
        composable = self._composable(question, hits, outside)
        checks["relevant"] = composable
        if composable:
            return (
                Choice("generate", "relevant_passages", checks) if model_available else Choice("extractive", "no_model", checks)
            )
        if outside is not None:
            return Choice("none", f"out_of_scope:{outside}", checks)
        return Choice("none", "below_bar", checks)
