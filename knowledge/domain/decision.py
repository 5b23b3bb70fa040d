"""Why the bot answered what it answered: the decision record kept with every answer.

Built by the answer chain, logged as one JSON line and stored with the transcript turn, so staff and
the knowledge admin can see the mode, the hits and their scores, the bars each one crossed, the
follow-up rewrite, whether the model was used (or why not) and the time each stage took. All text in
it is masked before it is recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RewrittenBy = Literal["none", "rules", "llm"]


@dataclass(frozen=True)
class HitScore:
    """One retrieved hit as the decision saw it."""

    doc_id: str
    kind: Literal["faq", "document"]
    score: float
    dense: float
    keyword: float
    title: str = ""


@dataclass
class DecisionRecord:
    """What happened while answering one question (all text masked)."""

    question: str = ""
    standalone: str = ""
    rewritten_by: RewrittenBy = "none"
    mode: str = ""
    reason: str = ""
    """Why this mode: confident_faq, confident_document, relevant_passages, no_model, out_of_scope, below_bar, no_hits, empty."""
    model: str = ""
    """The model that composed the answer ("" when none was asked)."""
    model_skipped: str = ""
    """Why the model was not asked: curated_answer, no_model, not_relevant ("" when it was asked)."""
    fallback: str = ""
    """Why a model answer fell back to passage sentences: timeout, ungrounded, model_error, model_declined."""
    hits: list[HitScore] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    checks: dict[str, float | bool] = field(default_factory=dict)
    """The values compared with the thresholds (top_dense, margin, coverage) and the verdicts (confident ...)."""
    unsupported: tuple[str, ...] = ()
    """Numbers or names in the model's text that no passage supports (the grounding check)."""
    bad_citations: tuple[int, ...] = ()
    raw_generation: str = ""
    passages: list[str] = field(default_factory=list)
    rewrite_ms: float = 0.0
    retrieve_ms: float = 0.0
    first_token_ms: float | None = None
    generate_ms: float = 0.0
    tokens: int = 0
    threads: int = 0
    """CPU threads the in-process model used (0: not asked, or another backend)."""
    total_ms: float = 0.0

    def as_log(self) -> dict[str, Any]:
        """The record as one JSON-ready dict for logs and transcripts (passages and raw text left out: they are long)."""
        record = asdict(self)
        for key in ("passages", "raw_generation"):
            record.pop(key)
        for key in ("rewrite_ms", "retrieve_ms", "first_token_ms", "generate_ms", "total_ms"):
            if record[key] is not None:
                record[key] = round(record[key], 1)
        record["unsupported"], record["bad_citations"] = list(self.unsupported), list(self.bad_citations)
        return record
