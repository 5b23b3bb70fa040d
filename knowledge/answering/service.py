"""The answer service: the one call the action server makes to answer a welfare question.

:class:`KnowledgeService` owns retrieval and the rules for each mode; :mod:`knowledge.answering.chain` runs
the steps (rewrite a follow-up, retrieve, choose, generate and check).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from knowledge.answering.chain import AnswerChain, AnswerEvent, Turn
from knowledge.domain.answer import Answer
from knowledge.domain.faq import FaqEntry
from knowledge.domain.helpline import Helpline
from knowledge.domain.hit import Hit, SearchFilter
from knowledge.korean.analyzer import KoreanAnalyzer, make_analyzer
from knowledge.korean.text import normalize
from knowledge.retrieval.embeddings import as_vector
from knowledge.retrieval.records import KnowledgeStore
from knowledge.rules.scope import is_personal_record, out_of_scope
from knowledge.settings import LlmSettings, RetrievalSettings

_QUESTION_NOUN_TAGS = ("NNG", "NNP", "SL", "SH")
_REVIEW_NOTE = "\n\n※ 이 안내의 일부 내용은 공식 고시로 다시 확인하고 있어요. 신청 전에 주민센터나 129에 꼭 확인해 주세요."

# Hits this close to the confidence bar are offered as "did you mean" suggestions.
_SUGGESTION_SLACK = 0.06
_MAX_SUGGESTIONS = 3


class KnowledgeService:
    """Retrieve from the store and answer with the curated FAQ text, a checked generated answer, or honestly not."""

    def __init__(
        self,
        store: KnowledgeStore,
        embeddings: Embeddings,
        settings: RetrievalSettings,
        helplines: dict[str, Helpline],
        *,
        llm: BaseChatModel | None = None,
        llm_settings: LlmSettings | None = None,
        analyzer: KoreanAnalyzer | None = None,
    ) -> None:
        """Wire the parts; nothing is loaded or fetched here.

        Args:
            store: the knowledge store.
            embeddings: the model the store's vectors were made with.
            settings: retrieval thresholds.
            helplines: phone lines for "cannot answer" messages.
            llm: the chat model that may compose answers; None for retrieval only (faq/none).
            llm_settings: limits for the model (deadline, passages, rewrite).
            analyzer: Korean analyzer for the relevance check (made on first use if not given).
        """
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self.helplines = helplines
        self.llm = llm
        self._analyzer = analyzer
        self.chain = AnswerChain(self, llm, llm_settings or LlmSettings())

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
        if out_of_scope(question, _entry_text(hits[0])):
            return False
        margin = hits[0].score - hits[1].score if len(hits) > 1 else 1.0
        return margin >= self.settings.faq_min_margin

    def coverage(self, question: str, text: str) -> float:
        """Share of the question's nouns found in ``text`` (1.0 when it has none)."""
        if self._analyzer is None:
            self._analyzer = make_analyzer()
        nouns = {m.form for m in self._analyzer.morphemes(question) if m.tag in _QUESTION_NOUN_TAGS}
        return sum(n in text for n in nouns) / len(nouns) if nouns else 1.0

    def may_generate(self, question: str, hits: list[Hit]) -> bool:
        """Whether the top passages are relevant enough for the model to compose an answer from them."""
        if not hits or hits[0].dense < self.settings.generate_min_dense:
            return False
        # Years and countries must be in the best passage itself: "2025년 ... 얼마였나요?" is not
        # answered from a 2026 entry that mentions 2025 in passing.
        if out_of_scope(question, _entry_text(hits[0])):
            return False
        text = " ".join(_entry_text(h) for h in hits[:3])
        return self.coverage(question, text) >= self.settings.generate_min_coverage

    def answer(
        self, question: str, *, history: Sequence[Turn] = (), program: str | None = None, on_date: date | None = None
    ) -> Answer:
        """Answer a citizen's question from the knowledge base.

        Args:
            question: the citizen's message.
            history: earlier ``(speaker, text)`` turns, oldest first, to rewrite follow-ups.
            program: the welfare program the dialogue remembers ("그거 어디서 신청해요?" is about it).
            on_date: the day whose valid knowledge applies (default today).
        """
        return self.chain.invoke(question, history=history, program=program, on_date=on_date)[0]

    def stream(
        self, question: str, *, history: Sequence[Turn] = (), program: str | None = None, on_date: date | None = None
    ) -> Iterator[AnswerEvent]:
        """Answer as events (``generating``, checked text deltas, then the final answer) for channels that stream."""
        return self.chain.stream(question, history=history, program=program, on_date=on_date)

    def warm_up(self) -> None:
        """Load the analyzer, the embedding model and the language model before traffic arrives."""
        self.search("기초연금")
        self.chain.warm_up()

    def faq_answer(self, hits: list[Hit]) -> Answer:
        """The curated answer of the top hit, as the welfare team wrote it."""
        entry = FaqEntry.model_validate(hits[0].payload)
        text = entry.answer
        if entry.needs_review:
            text += _REVIEW_NOTE
        return Answer(
            text=text,
            sources=(entry.as_source(),),
            confidence=round(hits[0].dense, 4),
            mode="faq",
            doc_id=entry.id,
            suggestions=self._suggestions(hits[1:]),
        )

    def generated_answer(self, text: str, cited: list[Hit], top: Hit, *, extractive: bool = False) -> Answer:
        """A composed (or, if ``extractive``, copied) answer citing ``cited`` as [1], [2] ..."""
        entries = [FaqEntry.model_validate(h.payload) for h in cited]
        line = self.helplines["welfare_call_center"]
        lead = "자료에서 찾은 관련 내용을 그대로 옮겨 드려요: " if extractive else ""
        note = f"\n\n※ 안내 자료를 바탕으로 정리한 답변이에요. 정확한 내용은 출처나 {line.name}({line.number})에서 확인해 주세요."
        if any(e.needs_review for e in entries):
            note += _REVIEW_NOTE
        return Answer(
            text=f"{lead}{text}{note}",
            sources=(*(e.as_source() for e in entries), line.as_source()),
            confidence=round(top.dense, 4),
            mode="generated",
            doc_id=entries[0].id if entries else None,
        )

    def _suggestions(self, hits: list[Hit]) -> tuple[str, ...]:
        bar = self.settings.faq_min_dense - _SUGGESTION_SLACK
        return tuple(str(h.payload["question"]) for h in hits if h.dense >= bar)[:_MAX_SUGGESTIONS]

    def cannot_answer(self, hits: list[Hit] | None = None, *, question: str = "") -> Answer:
        """An honest "not found", with a human and the welfare call center as the way forward."""
        line = self.helplines["welfare_call_center"]
        if is_personal_record(question):
            text = (
                "죄송해요. 개인의 신청 진행 상황이나 지급 내역은 제가 확인할 수 없었어요. "
                f"신분증을 가지고 주민센터에 문의하시거나 {line.name}({line.number}, {line.hours})에 문의해 주세요."
            )
        else:
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


def _entry_text(hit: Hit) -> str:
    p = hit.payload
    return " ".join([str(p.get("question", "")), *map(str, p.get("alternatives", [])), str(p.get("answer", ""))])
