"""The answer service: the one object the action server holds to answer a welfare question.

It assembles the parts (:class:`~knowledge.retrieval.retriever.Retriever`,
:class:`~knowledge.answering.policy.AnswerPolicy`, :class:`~knowledge.answering.composer.AnswerComposer`)
into an :class:`~knowledge.answering.chain.AnswerChain` and offers answering, streaming and search.
The chain is given those parts and never the service.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from knowledge.answering.chain import AnswerChain, AnswerEvent, Turn
from knowledge.answering.composer import AnswerComposer
from knowledge.answering.policy import AnswerPolicy
from knowledge.domain.answer import Answer
from knowledge.domain.helpline import Helpline
from knowledge.domain.hit import Hit
from knowledge.korean.analyzer import KoreanAnalyzer
from knowledge.retrieval.records import KnowledgeStore
from knowledge.retrieval.retriever import Retriever
from knowledge.settings import LlmSettings, RetrievalSettings


class KnowledgeService:
    """Answer from the knowledge base: the curated FAQ text, a passage, a checked generated answer, or honestly not."""

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
        model_name: str = "",
    ) -> None:
        """Wire the parts; nothing is loaded or fetched here.

        Args:
            store: the knowledge store.
            embeddings: the model the store's vectors were made with.
            settings: retrieval thresholds.
            helplines: phone lines for "cannot answer" messages.
            llm: the chat model that may compose answers; None for retrieval only (faq/extractive/none).
            llm_settings: limits for the model (deadline, passages, rewrite).
            analyzer: Korean analyzer for the relevance check (made on first use if not given).
            model_name: how decision records name the model.
        """
        self.store = store
        self.settings = settings
        self.helplines = helplines
        self.llm = llm
        self.policy = AnswerPolicy(settings, analyzer)
        self.retriever = Retriever(store, embeddings, settings, analyzer=self.policy.analyzer)
        self.composer = AnswerComposer(helplines, settings, scope_analyzer=self.policy.scope_analyzer)
        self.chain = AnswerChain(
            self.retriever, self.policy, self.composer, llm, llm_settings or LlmSettings(), model_name=model_name
        )

    def search(self, question: str, *, k: int | None = None, on_date: date | None = None) -> list[Hit]:
        """Hybrid search for a question over the deployment's tenants."""
        return self.retriever.search(question, k=k, on_date=on_date)

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        program: str | None = None,
        on_date: date | None = None,
        budget_s: float | None = None,
    ) -> Answer:
        """Answer a citizen's question from the knowledge base (the answer carries its decision record).

        Args:
            question: the citizen's message.
            history: earlier ``(speaker, text)`` turns, oldest first, to rewrite follow-ups.
            program: the welfare program the dialogue remembers ("그거 어디서 신청해요?" is about it).
            on_date: the day whose valid knowledge applies (default today).
            budget_s: how long the channel lets the citizen wait; a model not done by then is cancelled and
                the best extractive answer comes at once (None: only the model's own deadline).
        """
        return self.chain.invoke(question, history=history, program=program, on_date=on_date, budget_s=budget_s)[0]

    def stream(
        self, question: str, *, history: Sequence[Turn] = (), program: str | None = None, on_date: date | None = None
    ) -> Iterator[AnswerEvent]:
        """Answer as events (``generating``, checked text deltas, then the final answer) for channels that stream."""
        return self.chain.stream(question, history=history, program=program, on_date=on_date)

    def warm_up(self) -> None:
        """Load the analyzers, the embedding model and the language model before traffic arrives.

        The policy's noun check and the scope rules share one Kiwi (the scope rules make their own only
        when the analyzer is Okt), loaded on first use in seconds: it runs here, so the first citizen does
        not wait for it.
        """
        question = "기초연금 얼마 받을 수 있어요?"
        hits = self.search(question)
        self.policy.choose(question, hits, model_available=False)
        self.policy.coverage(question, question)
        self.chain.warm_up()
