"""Turn hits into the answer a citizen reads: the curated text, copied passage sentences, a checked model text, or "not found".

Every answer names where its text comes from (title, link, date; page and section for documents).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from knowledge.answering.grounding import best_extract
from knowledge.domain.answer import Answer
from knowledge.domain.faq import FaqEntry
from knowledge.domain.helpline import Helpline
from knowledge.domain.hit import Hit
from knowledge.korean.analyzer import KoreanAnalyzer
from knowledge.rules.scope import is_personal_record
from knowledge.settings import RetrievalSettings

REVIEW_NOTE = "\n\n※ 이 안내의 일부 내용은 공식 고시로 다시 확인하고 있어요. 신청 전에 주민센터나 129에 꼭 확인해 주세요."
_EXTRACT_LEAD = "안내 자료에서 찾은 내용을 그대로 옮겨 드려요: "

# Hits this close to the confidence bar are offered as "did you mean" suggestions.
_SUGGESTION_SLACK = 0.06
_MAX_SUGGESTIONS = 3


class AnswerComposer:
    """Write answers from hits; fixed texts name only helplines from their source file."""

    def __init__(
        self,
        helplines: dict[str, Helpline],
        settings: RetrievalSettings,
        *,
        scope_analyzer: Callable[[], KoreanAnalyzer | None] = lambda: None,
    ) -> None:
        """Keep the helplines (for "not found" and model notes) and the bar suggestions are measured against.

        ``scope_analyzer`` gives the Kiwi analyzer the scope rules may share (None: they use their own).
        """
        self.helplines = helplines
        self.settings = settings
        self._scope_analyzer = scope_analyzer

    def faq_answer(self, hits: Sequence[Hit]) -> Answer:
        """The curated answer of the top hit, as the welfare team wrote it."""
        entry = hits[0].item
        assert isinstance(entry, FaqEntry), "faq answers come from FAQ entries"
        text = entry.answer + (REVIEW_NOTE if entry.needs_review else "")
        return Answer(
            text=text,
            sources=(entry.as_source(),),
            confidence=round(hits[0].dense, 4),
            mode="faq",
            doc_id=entry.id,
            suggestions=self._suggestions(hits[1:]),
        )

    def extractive_answer(self, question: str, hits: Sequence[Hit], *, fallback: str = "") -> Answer | None:
        """The sentences of the passages closest to the question, copied as written, citing their passage.

        None when no passage has a sentence to copy.
        """
        extract, number = best_extract(question, [h.item.body for h in hits])
        if not extract:
            return None
        hit = hits[number - 1]
        line = self.helplines["welfare_call_center"]
        note = f"\n\n※ 정확한 내용은 출처나 {line.name}({line.number})에서 확인해 주세요."
        if hit.item.needs_review:
            note += REVIEW_NOTE
        return Answer(
            text=f"{_EXTRACT_LEAD}{extract} [1]{note}",
            sources=(hit.item.as_source(), line.as_source()),
            confidence=round(hits[0].dense, 4),
            mode="extractive",
            doc_id=hit.doc_id,
            fallback=fallback,
        )

    def generated_answer(self, text: str, cited: Sequence[Hit], top: Hit) -> Answer:
        """A composed answer citing ``cited`` as [1], [2] ... (the grounding check has passed)."""
        line = self.helplines["welfare_call_center"]
        note = f"\n\n※ 안내 자료를 바탕으로 정리한 답변이에요. 정확한 내용은 출처나 {line.name}({line.number})에서 확인해 주세요."
        if any(h.item.needs_review for h in cited):
            note += REVIEW_NOTE
        return Answer(
            text=f"{text}{note}",
            sources=(*(h.item.as_source() for h in cited), line.as_source()),
            confidence=round(top.dense, 4),
            mode="generated",
            doc_id=cited[0].doc_id if cited else None,
        )

    def cannot_answer(self, hits: Sequence[Hit] = (), *, question: str = "") -> Answer:
        """An honest "not found", with a human and the welfare call center as the way forward."""
        line = self.helplines["welfare_call_center"]
        if is_personal_record(question, analyzer=self._scope_analyzer()):
            text = (
                "죄송해요. 개인의 신청 진행 상황이나 지급 내역은 제가 확인할 수 없었어요. "
                f"신분증을 가지고 주민센터에 문의하시거나 {line.name}({line.number}, {line.hours})에 문의해 주세요."
            )
        else:
            text = (
                "죄송해요. 말씀하신 내용은 제가 가진 복지 안내 자료에서 확인할 수 없었어요. "
                f"'상담원 연결'을 누르시거나 {line.name}({line.number}, {line.hours})에 문의해 주세요."
            )
        suggestions = self._suggestions(hits)
        if suggestions:
            text += " 혹시 아래 질문 중에 찾으시는 내용이 있나요?"
        return Answer(
            text=text,
            sources=(line.as_source(),),
            confidence=round(hits[0].dense, 4) if hits else 0.0,
            mode="none",
            suggestions=suggestions,
        )

    def _suggestions(self, hits: Sequence[Hit]) -> tuple[str, ...]:
        """FAQ questions near the bar, offered as quick replies (a document heading is not a question to send)."""
        bar = self.settings.faq_min_dense - _SUGGESTION_SLACK
        questions = [h.item.question for h in hits if h.dense >= bar and isinstance(h.item, FaqEntry)]
        return tuple(questions[:_MAX_SUGGESTIONS])
