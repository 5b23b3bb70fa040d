"""The answer chain (LCEL): rewrite a follow-up, retrieve, then answer by mode (faq, generated, none).

```
question, history --rewrite--> standalone question --retrieve--> hits --choose (policy)-->
    faq        the curated answer as written (no model involved)
    extractive sentences copied from a document passage, or from any passage when there is no model
    generated  the model composes from the top passages; each sentence is held to the grounding
               check before it is streamed; failure, lateness or a model error -> extractive answer
    none       an honest "cannot confirm" with a human and 129 as the way forward
```
The chain is given its parts (a retriever, a policy, a composer, a model) and knows nothing above
them. Everything the model sees is masked first (:func:`knowledge.rules.privacy.mask`); every answer
carries its :class:`~knowledge.domain.decision.DecisionRecord`, also logged as one JSON line.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from knowledge.answering.composer import AnswerComposer
from knowledge.answering.grounding import (
    attribute_citations,
    check_grounding,
    citations,
    extract_facts,
    focus_passage,
    renumber_citations,
)
from knowledge.answering.llm import LlamaCppChat
from knowledge.answering.policy import AnswerPolicy, Choice
from knowledge.answering.prompts import answer_prompt, format_history, format_passages, rewrite_prompt
from knowledge.domain.answer import Answer
from knowledge.domain.decision import DecisionRecord, HitScore
from knowledge.domain.hit import Hit
from knowledge.korean.analyzer import load_user_dict
from knowledge.korean.text import normalize
from knowledge.retrieval.retriever import Retriever
from knowledge.rules.privacy import mask
from knowledge.settings import LlmSettings

logger = logging.getLogger(__name__)

Speaker = Literal["user", "bot"]
Turn = tuple[Speaker, str]

# Words that point back at something said before ("그거 어디서 신청해요?").
_REFERS_BACK = re.compile(r"그거|그건|그게|그것|거기|이거|이건|그 제도|그 돈|그 급여|그 연금|그럼|그러면|그건요")
_MAX_HISTORY_TURNS = 6
# A complete sentence: final punctuation, then any citations, then a character that starts the next one.
_SENTENCE = re.compile(r"^(.*?[.!?](?:\s*\[[\d,\s]+\])*)\s+(?=[^\s\[])", re.S)
_REFUSAL = re.compile(r"확인할 수 없|알 수 없|자료에 없|답할 수 없")
# Less budget than this left: the model is not started (it could not write a sentence in time).
_MIN_MODEL_S = 0.3


class GenerationTimeoutError(TimeoutError):
    """The model did not finish before the deadline."""


class AnswerTimes:
    """How long the model's recent answers took, so a channel's budget it cannot meet does not start it at all.

    Each generation leaves its time and whether it finished. A call with a budget starts the model only while at
    least half of the recent answers that say something about that budget fit in the time it has left: a finished
    answer fits if it was no longer; one cut off after running at least four fifths as long does not; one cut off
    sooner (at a much shorter budget) says nothing. On 2 busy cores none fits 2.5 s, and the model would hold a
    core until the budget and its work be thrown away. Every ``probe_every``-th call it would skip starts anyway,
    so a machine that became idle or faster is noticed even where no streaming channel feeds new times.
    """

    def __init__(self, keep: int = 9, min_samples: int = 5, probe_every: int = 10) -> None:
        """Judge on the last ``keep`` answers, once ``min_samples`` of them say something about the budget."""
        self._times: deque[tuple[float, bool]] = deque(maxlen=keep)
        self._min_samples, self._probe_every = min_samples, probe_every
        self._skipped = 0
        self._lock = threading.Lock()

    def add(self, seconds: float, *, finished: bool) -> None:
        """Record one generation (``finished``: the model wrote its whole answer within its limits)."""
        with self._lock:
            self._times.append((seconds, finished))

    def fits(self, seconds_left: float) -> bool:
        """Whether to start the model with ``seconds_left`` until the channel's budget runs out."""
        with self._lock:
            # A cut answer ran ``t`` without finishing: it would not have fit up to a quarter more (the same budget
            # leaves a little more or less time from call to call, after Rasa and retrieval).
            known = [done and t <= seconds_left for t, done in self._times if done or t * 1.25 >= seconds_left]
            if len(known) < self._min_samples or 2 * sum(known) >= len(known):
                self._skipped = 0
                return True
            self._skipped += 1
            if self._skipped >= self._probe_every:
                self._skipped = 0
                return True
            return False


@dataclass(frozen=True)
class AnswerEvent:
    """One step of a streamed answer.

    ``generating``: the model is composing (sent once, before any delta; faq and none answers
    skip straight to ``final``); ``delta``: text to append (already checked, citations numbered as the passages were);
    ``reset``: discard what was shown (an extractive answer follows); ``final``: the complete
    :class:`Answer` and its decision record, whose text (citations renumbered to match its sources) replaces
    what was streamed.
    """

    kind: Literal["generating", "delta", "reset", "final"]
    text: str = ""
    answer: Answer | None = None
    trace: DecisionRecord | None = None


@dataclass
class _State:
    question: str
    history: Sequence[Turn]
    on_date: date | None
    trace: DecisionRecord
    program: str | None = None
    standalone: str = ""
    hits: list[Hit] = field(default_factory=list)
    choice: Choice | None = None
    answer: Answer | None = None
    started: float = field(default_factory=time.perf_counter)
    # The channel's answer budget as a time.monotonic() instant: no model work is waited for past it.
    deadline: float | None = None


def final_answer(events: Iterable[AnswerEvent]) -> tuple[Answer, DecisionRecord]:
    """Read an answer's events to the end: the final answer and its decision record."""
    for event in events:
        if event.kind == "final" and event.answer is not None and event.trace is not None:
            return event.answer, event.trace
    raise RuntimeError("the answer chain ended without an answer")  # pragma: no cover


def is_follow_up(question: str, topics: Sequence[str]) -> bool:
    """A question that names no program and points back at the conversation ("그거", "거기")."""
    return not any(t in question for t in topics) and bool(_REFERS_BACK.search(question))


def rule_rewrite(question: str, history: Sequence[Turn], topics: Sequence[str], program: str | None = None) -> str | None:
    """Put the program talked about in front of a follow-up ("그거 어디서" -> "기초연금 어디서").

    ``program`` is the one the dialogue remembers (Rasa's slot, synonyms already resolved: 노인연금 ->
    기초연금); without it, the last welfare term the citizen named in ``history``.
    """
    if program:
        return f"{program} {_REFERS_BACK.sub('', question).strip()}".strip()
    for speaker, text in reversed(history):
        if speaker != "user":
            continue
        named = [t for t in topics if t in text]
        if named:
            topic = max(named, key=len)
            return f"{topic} {_REFERS_BACK.sub('', question).strip()}".strip()
    return None


def history_from_events(events: Sequence[dict[str, Any]], limit: int = _MAX_HISTORY_TURNS) -> list[Turn]:
    """Recent user and bot turns from Rasa tracker events, without the latest user message."""
    turns: list[Turn] = []
    for event in events:
        text = (event.get("text") or "").strip()
        if event.get("event") == "user" and text:
            turns.append(("user", text))
        elif event.get("event") == "bot" and text:
            turns.append(("bot", text))
    if turns and turns[-1][0] == "user":
        turns.pop()
    return turns[-limit:]


def stream_with_deadline(
    runnable: Runnable[Any, Any], inputs: Any, deadline: float, cancel: threading.Event | None = None
) -> Iterator[str]:
    """Stream a runnable's text in a worker thread; stop waiting at ``deadline`` (monotonic seconds).

    On timeout, or when the caller stops reading, ``cancel`` is set: the worker stops at the next
    chunk, and a model bound to the same event (:class:`~knowledge.answering.llm.LlamaCppChat`) aborts at once.

    Raises:
        GenerationTimeoutError: nothing more arrived before the deadline (the worker is told to stop).
        Exception: whatever the model raised (connection refused, bad response ...).
    """
    chunks: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancel = cancel or threading.Event()

    def work() -> None:
        stream = runnable.stream(inputs)
        try:
            for chunk in stream:
                if cancel.is_set():
                    break
                chunks.put(("text", chunk.content if hasattr(chunk, "content") else chunk))
            chunks.put(("end", None))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting caller
            chunks.put(("error", exc))
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()

    threading.Thread(target=work, name="llm-generate", daemon=True).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GenerationTimeoutError
            try:
                kind, value = chunks.get(timeout=remaining)
            except queue.Empty:
                raise GenerationTimeoutError from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            if value:
                yield str(value)
    finally:
        cancel.set()


def _check_pending(shown: str, pending: str, passages: Sequence[str]) -> tuple[str, str]:
    """Decide on sentences waiting to be shown while the model writes: ``(failure, text to release)``.

    Sentences with numbers wait for their citation (small models often cite after the last
    sentence); once cited, every number so far must be in a cited passage. With a single passage
    there is nothing to wait for: an uncited number can only be attributed to it (as :func:`_finalize`
    does at the end), so it is checked against that passage at once.
    """
    if _REFUSAL.search(pending):
        return "model_declined", ""
    so_far = shown + pending
    if not pending.strip():
        return "", ""
    if not citations(so_far):
        if len(passages) == 1:
            so_far = f"{so_far} [1]"
        elif extract_facts(pending):
            return "", ""
    verdict = check_grounding(so_far, passages)
    if verdict.unsupported or verdict.bad_citations:
        return "ungrounded", ""
    return "", pending


def _finalize(shown: str, pending: str, passages: Sequence[str]) -> tuple[str, str]:
    """The whole answer once the model stopped: ``(failure, final text)``.

    An answer that cites nothing gets markers for the passages its numbers come from
    (:func:`~knowledge.answering.grounding.attribute_citations`) and is then checked like any other.
    """
    if _REFUSAL.search(pending):
        return "model_declined", ""
    text = (shown + pending).strip()
    if not citations(text):
        text = attribute_citations(text, passages)
    verdict = check_grounding(text, passages)
    return ("" if verdict.ok else "ungrounded"), text


class AnswerChain:
    """Rewrite, retrieve, choose a mode (the policy), and compose the answer; ``generated`` is checked sentence by sentence."""

    def __init__(
        self,
        retriever: Retriever,
        policy: AnswerPolicy,
        composer: AnswerComposer,
        llm: BaseChatModel | None,
        settings: LlmSettings,
        *,
        model_name: str = "",
    ) -> None:
        """Wire the chain; no model is loaded or called here (only the small welfare-term list is read).

        Args:
            retriever: finds hits for a question.
            policy: decides the mode from the hits.
            composer: writes the answer of each mode.
            llm: the chat model that may compose answers; None for retrieval only (faq/extractive/none).
            settings: limits for the model (deadline, passages, rewrite).
            model_name: how the decision record names the model (the backend and model file or tag).
        """
        self.retriever = retriever
        self.policy = policy
        self.composer = composer
        self.llm = llm
        self.settings = settings
        self.model_name = model_name or (type(llm).__name__ if llm is not None else "")
        self.topics = [word for word, _ in load_user_dict()]
        self.answer_times = AnswerTimes()
        self.route: Runnable[_State, _State] = (
            RunnableLambda(self._rewrite) | RunnableLambda(self._retrieve) | RunnableLambda(self._choose)
        )

    def _model(self, cancel: threading.Event) -> Runnable[Any, Any]:
        """The chat model, bound to ``cancel`` when it can abort mid-computation."""
        assert self.llm is not None
        aborts = isinstance(self.llm, LlamaCppChat) or getattr(type(self.llm), "cancel_aware", False)
        return self.llm.bind(cancel_event=cancel) if aborts else self.llm

    def _run_model(
        self, prompt: Runnable[Any, Any], inputs: dict[str, str], timeout_s: float, budget: float | None = None
    ) -> Iterator[str]:
        """Stream the model until its own deadline or the channel's budget (``budget``, monotonic), whichever comes first."""
        cancel = threading.Event()
        chain = prompt | self._model(cancel) | StrOutputParser()
        deadline = time.monotonic() + timeout_s
        return stream_with_deadline(chain, inputs, deadline if budget is None else min(deadline, budget), cancel)

    # -- steps ---------------------------------------------------------------------------------
    def _rewrite(self, state: _State) -> _State:
        """Rewrite a question that points back ("그거 어디서 신청해요?") before retrieving."""
        state.standalone = state.question
        if (state.history or state.program) and is_follow_up(state.question, self.topics):
            self._apply_rewrite(state)
        return state

    def _apply_rewrite(self, state: _State) -> bool:
        start = time.perf_counter()
        llm = self.settings.rewrite == "llm"
        rewritten = self._llm_rewrite(state.question, state.history, state.deadline) if llm else None
        if rewritten:
            state.standalone, state.trace.rewritten_by = rewritten, "llm"
        elif ruled := rule_rewrite(state.question, state.history, self.topics, state.program):
            state.standalone, state.trace.rewritten_by = ruled, "rules"
        state.trace.standalone = state.standalone
        state.trace.rewrite_ms += (time.perf_counter() - start) * 1000
        return state.trace.rewritten_by != "none"

    def _llm_rewrite(self, question: str, history: Sequence[Turn], budget: float | None = None) -> str | None:
        if self.llm is None or (budget is not None and budget - time.monotonic() < _MIN_MODEL_S):
            return None
        inputs = {"history": format_history(history), "question": question}
        try:
            text = "".join(self._run_model(rewrite_prompt(), inputs, self.settings.rewrite_timeout_s, budget))
        except Exception:  # noqa: BLE001 - late or failing model: the rules rewrite instead
            return None
        line = normalize(text).split("\n")[0].strip().strip('"')
        known = f"{question} {format_history(history)}"
        # A rewrite adds the program named before, nothing else: no numbers, no long additions.
        if not line or len(line) > len(question) + 20 or not any(t in line for t in self.topics if t in known):
            return None
        if re.findall(r"\d", line) != re.findall(r"\d", question):
            return None
        return mask(line)

    def _retrieve(self, state: _State) -> _State:
        """Search; an elliptical question ("서류는요?") that finds nothing confident is rewritten and retried."""
        start, rewrite_before = time.perf_counter(), state.trace.rewrite_ms
        state.trace.standalone = state.standalone
        state.hits = self.retriever.search(state.standalone, on_date=state.on_date)
        elliptical = not any(t in state.question for t in self.topics)
        if (state.history or state.program) and elliptical and state.trace.rewritten_by == "none":
            # "서류는요?" after talking about 기초연금: try the question with the program put back in,
            # and keep whichever retrieves better.
            original, hits = state.standalone, state.hits
            was_confident = self.policy.is_confident(original, hits)
            if self._apply_rewrite(state):
                state.hits = self.retriever.search(state.standalone, on_date=state.on_date)
                better = self.policy.is_confident(state.standalone, state.hits) or (
                    not was_confident and bool(state.hits) and (not hits or state.hits[0].dense >= hits[0].dense)
                )
                if not better:
                    state.standalone, state.hits, state.trace.rewritten_by = original, hits, "none"
                    state.trace.standalone = original
        state.trace.retrieve_ms = (time.perf_counter() - start) * 1000 - (state.trace.rewrite_ms - rewrite_before)
        return state

    def _choose(self, state: _State) -> _State:
        choice = self.policy.choose(state.standalone, state.hits, model_available=self.llm is not None)
        state.choice = choice
        trace = state.trace
        trace.reason, trace.checks, trace.thresholds = choice.reason, choice.checks, self.policy.thresholds
        trace.hits = [
            HitScore(
                h.doc_id,
                "document" if h.is_document else "faq",
                round(h.score, 4),
                round(h.dense, 4),
                round(h.keyword, 3),
                h.item.title,
            )
            for h in state.hits
        ]
        if choice.route != "generate":
            trace.model_skipped = (
                "no_model"
                if self.llm is None
                else ("curated_answer" if choice.route in ("faq", "extractive") else "not_relevant")
            )
        match choice.route:
            case "faq":
                state.answer = self.composer.faq_answer(state.hits)
            case "extractive":
                state.answer = self.composer.extractive_answer(
                    state.standalone, self._quotable(state.hits)
                ) or self.composer.cannot_answer(state.hits, question=state.standalone)
            case "none":
                state.answer = self.composer.cannot_answer(state.hits, question=state.standalone)
        return state

    def _quotable(self, hits: list[Hit]) -> list[Hit]:
        """The passages an extractive answer may copy from.

        A document chunk on top was judged on its own text (:meth:`AnswerPolicy.may_compose`): copy from it
        alone, so "마음건강 바우처 어디서 신청해요?" never gets another voucher's application steps.
        """
        return hits[:1] if hits and hits[0].is_document else hits[: self.settings.extract_passages]

    # -- public API ----------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the in-process model and evaluate the fixed prompt prefix once (later prompts reuse it)."""
        if isinstance(self.llm, LlamaCppChat):
            self.llm.load()
            primer = answer_prompt() | self.llm.bind(max_tokens=1)
            primer.invoke({"passages": format_passages([("안내", "준비")]), "question": "준비"})

    def stream(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        program: str | None = None,
        on_date: date | None = None,
        budget_s: float | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer step by step; the last event is ``final`` with the :class:`Answer` (carrying its decision record).

        ``program`` is the welfare program the dialogue remembers, for follow-ups that only point back at it.
        ``budget_s`` is how long the channel lets the citizen wait, counted from this call: a model not done
        by then is cancelled and the best extractive answer is given at once (fallback ``over_budget``).
        """
        start = time.perf_counter()
        budget = time.monotonic() + budget_s if budget_s is not None else None
        masked = mask(normalize(question))
        trace = DecisionRecord(question=masked)
        history = [(s, mask(t)) for s, t in history][-_MAX_HISTORY_TURNS:]
        # Emoji, "ㅠㅠ", "저기요" and run-together words must not move a question off its curated answer.
        query = self.retriever.query_form(masked) if masked.strip() else masked
        state = _State(query, history, on_date, trace, program=program or None, deadline=budget)
        if not masked.strip():
            trace.reason = "empty"
            state.answer = self.composer.cannot_answer(question="")
        else:
            state = self.route.invoke(state)
        state.started = start
        if state.answer is None:
            trace.model = self.model_name
            yield AnswerEvent("generating")
            yield from self._generate(state)
            return
        yield self._final(state, state.answer)

    def invoke(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        program: str | None = None,
        on_date: date | None = None,
        budget_s: float | None = None,
    ) -> tuple[Answer, DecisionRecord]:
        """The final answer and its decision record (``budget_s``: see :meth:`stream`)."""
        return final_answer(self.stream(question, history=history, program=program, on_date=on_date, budget_s=budget_s))

    def _final(self, state: _State, answer: Answer) -> AnswerEvent:
        """The last event: the answer with its decision record, which is logged as one JSON line."""
        trace = state.trace
        trace.mode = answer.mode
        trace.fallback = answer.fallback
        trace.total_ms = (time.perf_counter() - state.started) * 1000
        logger.info("answer decision %s", json.dumps(trace.as_log(), ensure_ascii=False))
        return AnswerEvent("final", answer=replace(answer, decision=trace), trace=trace)

    # -- generation ----------------------------------------------------------------------------
    def _passages(self, hits: list[Hit], question: str) -> list[tuple[str, str]]:
        out = []
        for hit in hits[: self.settings.passages]:
            item = hit.item
            text = focus_passage(question, f"{item.title}\n{item.body}", self.settings.passage_chars)
            out.append((item.source.title, mask(text)))
        return out

    def _generate(self, state: _State) -> Iterator[AnswerEvent]:
        trace = state.trace
        passages = self._passages(state.hits, state.standalone)
        texts = [f"{title}\n{text}" for title, text in passages]
        trace.passages = texts
        inputs = {"passages": format_passages(passages), "question": state.standalone}
        start = time.perf_counter()
        buffer, pending, shown, failure = "", "", "", ""
        ran = False
        budget = state.deadline
        # Which bound ends the wait: the channel's budget (the citizen gets the extract at once) or the model's deadline.
        over = "over_budget" if budget is not None and budget < time.monotonic() + self.settings.timeout_s else "timeout"
        try:
            if budget is not None and budget - time.monotonic() < _MIN_MODEL_S:
                raise GenerationTimeoutError  # no time left to write anything: do not start the model at all
            if budget is not None and not self.answer_times.fits(budget - time.monotonic()):
                trace.model_skipped, over = "slower_than_budget", "over_budget"
                raise GenerationTimeoutError  # it would not finish in time (recent answers took longer): extract now
            ran = True
            for piece in self._run_model(answer_prompt(), inputs, self.settings.timeout_s, budget):
                if trace.first_token_ms is None:
                    trace.first_token_ms = (time.perf_counter() - start) * 1000
                trace.tokens += 1
                buffer += piece
                trace.raw_generation += piece
                while not failure and (match := _SENTENCE.match(buffer)):
                    pending, buffer = pending + match.group(1) + " ", buffer[match.end() :]
                    failure, release = _check_pending(shown, pending, texts)
                    if release:
                        shown, pending = shown + pending, ""
                        yield AnswerEvent("delta", text=release)
                if failure:
                    break
        except GenerationTimeoutError:
            failure = over
        except Exception:  # noqa: BLE001 - a stopped or broken model must not stop the answer
            failure = "model_error"
        trace.generate_ms = (time.perf_counter() - start) * 1000
        trace.threads = getattr(self.llm, "last_threads", 0)
        if ran and failure in ("", over):  # a whole answer, or one cut at its limit (one ended early says nothing)
            self.answer_times.add(trace.generate_ms / 1000, finished=not failure)
        if not failure:
            failure, text = _finalize(shown, pending + buffer.strip(), texts)
            if not failure:
                # The final event carries the authoritative text (markers may have been added).
                if text.startswith(shown.strip()) and text[len(shown.strip()) :].strip():
                    yield AnswerEvent("delta", text=text[len(shown.strip()) :].strip())
                shown = text
        shown = shown.strip()
        verdict = check_grounding(trace.raw_generation, texts)
        trace.unsupported, trace.bad_citations = tuple(verdict.unsupported), tuple(verdict.bad_citations)
        if shown and failure:
            yield AnswerEvent("reset")
        yield self._final(state, self._finish(state, shown, failure, passages))

    def _finish(self, state: _State, text: str, failure: str, passages: list[tuple[str, str]]) -> Answer:
        hits = state.hits[: len(passages)]
        if failure == "model_declined":
            return self.composer.cannot_answer(state.hits, question=state.standalone)
        if failure:
            extract = self.composer.extractive_answer(state.standalone, self._quotable(hits), fallback=failure)
            return extract or self.composer.cannot_answer(state.hits, question=state.standalone)
        order = check_grounding(text, [f"{title}\n{body}" for title, body in passages]).cited
        return self.composer.generated_answer(renumber_citations(text, order), [hits[n - 1] for n in order], hits[0])
