"""Questions the bot did not answer well, read from the transcripts: the unanswered-questions inbox's source.

An occurrence is the citizen's question (a ``citizen`` turn, masked when it was recorded) before one of:

- a bot answer in mode ``none`` (not a crisis reply, not a handoff notice). Rasa's NLU fallback leaves no
  mark of its own: ``nlu_fallback`` and the core fallback both run ``action_answer_welfare``
  (bot/data/rules.yml, bot/config.yml), so a fallback the knowledge base could not answer is exactly such
  an answer;
- a handoff the bot asked for because it could not answer (``unanswered``) or because the citizen
  repeated a question after a 👎 (``disliked``);
- a bot answer rated 👎.

One question met for several reasons (a 👎 answer that also led to a handoff) is one occurrence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from channels.store.database import Database
from channels.store.models import Feedback, Handoff, InboxResolution, Turn, utcnow

REASON_LABELS = {
    "none": "답을 찾지 못함",
    "disliked": "도움 안 됨(👎)",
    "handoff_unanswered": "답을 못 해 상담 연결",
    "handoff_disliked": "도움 안 됨(👎) 뒤 같은 질문으로 상담 연결",
}
HANDOFF_REASONS = ("unanswered", "disliked")


@dataclass
class Occurrence:
    """One citizen question the bot did not answer well."""

    turn_id: int
    sender_id: str
    question: str
    at: datetime
    reasons: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Resolution:
    """A group marked answered: by whom, when, and which FAQ entry answers it."""

    id: int
    question: str
    entry_id: str | None
    resolved_by: int | None
    resolved_at: datetime


class UnansweredQuestions:
    """Reads occurrences and resolutions from the staff database."""

    def __init__(self, database: Database) -> None:
        """Use the staff database."""
        self.database = database

    def occurrences(self, days: int, now: datetime | None = None) -> list[Occurrence]:
        """Every occurrence of the last ``days`` days, newest first."""
        since = (now or utcnow()) - timedelta(days=days)
        found: dict[int, Occurrence] = {}
        with self.database.session() as session:
            citizen = aliased(Turn)
            before_bot = (
                select(func.max(citizen.id))
                .where(citizen.sender_id == Turn.sender_id, citizen.role == "citizen", citizen.id < Turn.id)
                .scalar_subquery()
            )
            # Mode "none" answers: a cheap text filter first, then the meta itself decides.
            rows = session.execute(
                select(Turn.meta, before_bot).where(Turn.role == "bot", Turn.created_at >= since, Turn.meta.contains('"none"'))
            ).all()
            wanted: dict[int, set[str]] = {}
            for meta, asked in rows:
                if asked is not None and _unanswered(meta):
                    wanted.setdefault(asked, set()).add("none")
            disliked = session.execute(
                select(before_bot)
                .select_from(Turn)
                .join(Feedback, Feedback.turn_id == Turn.id)
                .where(Feedback.rating == "down", Turn.role == "bot", Turn.created_at >= since)
            ).all()
            for (asked,) in disliked:
                if asked is not None:
                    wanted.setdefault(asked, set()).add("disliked")
            before_handoff = (
                select(func.max(citizen.id))
                .where(
                    citizen.sender_id == Handoff.sender_id, citizen.role == "citizen", citizen.created_at <= Handoff.created_at
                )
                .scalar_subquery()
            )
            handoffs = session.execute(
                select(Handoff.reason, before_handoff).where(Handoff.reason.in_(HANDOFF_REASONS), Handoff.created_at >= since)
            ).all()
            for reason, asked in handoffs:
                if asked is not None:
                    wanted.setdefault(asked, set()).add(f"handoff_{reason}")
            if wanted:
                turns = session.scalars(select(Turn).where(Turn.id.in_(list(wanted)))).all()
                for turn in turns:
                    text = turn.text.strip()
                    if text and not text.startswith("/"):  # a button's payload is no question
                        found[turn.id] = Occurrence(turn.id, turn.sender_id, text, turn.created_at, wanted[turn.id])
        return sorted(found.values(), key=lambda o: (o.at, o.turn_id), reverse=True)

    def resolutions(self) -> list[Resolution]:
        """Every resolution, newest first."""
        with self.database.session() as session:
            rows = session.scalars(
                select(InboxResolution).order_by(InboxResolution.resolved_at.desc(), InboxResolution.id.desc())
            )
            return [Resolution(r.id, r.question, r.entry_id, r.resolved_by, r.resolved_at) for r in rows]

    def resolve(self, group_key: str, question: str, entry_id: str | None, resolved_by: int | None) -> Resolution:
        """Record that ``entry_id`` (or nothing in particular) answers the group asked as ``question``."""
        with self.database.session() as session:
            row = InboxResolution(
                group_key=group_key, question=question, entry_id=entry_id, resolved_by=resolved_by, resolved_at=utcnow()
            )
            session.add(row)
            session.flush()
            return Resolution(row.id, row.question, row.entry_id, row.resolved_by, row.resolved_at)


def _unanswered(raw: str) -> bool:
    """A bot answer that found nothing: mode none, and neither a crisis reply nor a handoff notice (as channels/conversation.py counts it)."""
    try:
        meta = json.loads(raw or "{}")
    except ValueError:
        return False
    return isinstance(meta, dict) and meta.get("mode") == "none" and not meta.get("crisis") and not meta.get("handoff")
