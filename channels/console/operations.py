"""The city's operations report: volume, resolution without a person, handoff and fallback rates, ratings, answer time.

Computed from the staff database (turns, feedback, handoffs) for a range of days in the office's time zone:

- conversations: distinct citizens (sender ids) who wrote that day; messages: their messages;
- resolved without a person: conversations of the day for which no handoff was requested that day;
- handoff rate: conversations with a handoff request / conversations;
- fallback rate: knowledge answers (modes faq, extractive, generated, none) that found nothing (mode ``none``,
  not a crisis reply) / knowledge answers;
- 👍/👎: ratings given that day;
- answer time: the action server's time to compose each knowledge answer (retrieval and model, from the
  answer's decision record), median and 95th percentile; Rasa and the network are in ``bokji_rasa_seconds``.

Only small columns are read (JSON fields extracted by the database), so weeks of a busy city stay cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, cast, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from channels.admin.question_groups import group_questions
from channels.admin.unanswered import UnansweredQuestions
from channels.store.database import Database
from channels.store.models import Feedback, Handoff, Turn

KNOWLEDGE_MODES = ("faq", "extractive", "generated", "none")
TOP_TOPICS = 10


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.5: the median) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Period:
    """The figures of one day, or of the whole range."""

    label: str
    senders: set[str] = field(default_factory=set)
    messages: int = 0
    handoff_senders: set[str] = field(default_factory=set)
    handoffs: int = 0
    answers: int = 0
    fallbacks: int = 0
    up: int = 0
    down: int = 0
    answer_ms: list[float] = field(default_factory=list)

    @property
    def conversations(self) -> int:
        """Distinct citizens who wrote."""
        return len(self.senders)

    @property
    def resolved_without_person(self) -> int:
        """Conversations with no handoff request."""
        return len(self.senders - self.handoff_senders)

    @property
    def resolution_rate(self) -> float | None:
        """Share of conversations resolved without a person."""
        return _rate(self.resolved_without_person, self.conversations)

    @property
    def handoff_rate(self) -> float | None:
        """Share of conversations that asked for (or were given) a person."""
        return _rate(len(self.senders & self.handoff_senders), self.conversations)

    @property
    def fallback_rate(self) -> float | None:
        """Share of knowledge answers that found nothing."""
        return _rate(self.fallbacks, self.answers)

    @property
    def median_s(self) -> float | None:
        """Median answer time in seconds."""
        value = percentile(self.answer_ms, 0.5)
        return None if value is None else value / 1000

    @property
    def p95_s(self) -> float | None:
        """95th-percentile answer time in seconds."""
        value = percentile(self.answer_ms, 0.95)
        return None if value is None else value / 1000

    def row(self) -> dict[str, Any]:
        """The figures as the table, the charts and the CSV show them (rates in percent, times in seconds)."""

        def pct(value: float | None) -> float | None:
            return None if value is None else round(value * 100, 1)

        def sec(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "day": self.label,
            "conversations": self.conversations,
            "messages": self.messages,
            "resolved_pct": pct(self.resolution_rate),
            "handoffs": self.handoffs,
            "handoff_pct": pct(self.handoff_rate),
            "fallback_pct": pct(self.fallback_rate),
            "up": self.up,
            "down": self.down,
            "median_s": sec(self.median_s),
            "p95_s": sec(self.p95_s),
        }


@dataclass(frozen=True)
class Topic:
    """A question the bot could not answer well, asked this many times in the range (masked when recorded)."""

    question: str
    count: int


@dataclass
class OperationsReport:
    """Day-by-day figures, the range's totals and its top unanswered topics."""

    start: date
    end: date
    days: list[Period]
    total: Period
    topics: list[Topic]


class Operations:
    """Builds :class:`OperationsReport` from the staff database."""

    def __init__(self, database: Database, zone: str = "Asia/Seoul") -> None:
        """Read ``database``; days begin at midnight in ``zone`` (the office's time zone)."""
        self.database = database
        self.zone = ZoneInfo(zone)

    def _bounds(self, start: date, end: date) -> tuple[datetime, datetime]:
        first = datetime.combine(start, time(0), self.zone).astimezone(timezone.utc)
        after = datetime.combine(end + timedelta(days=1), time(0), self.zone).astimezone(timezone.utc)
        return first, after

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _field(self, *path: str) -> Any:
        """A JSON field of ``turns.meta`` (a text column) as the database extracts it."""
        meta = cast(Turn.meta, JSONB) if self.database.engine.dialect.name == "postgresql" else type_coerce(Turn.meta, JSON)
        return meta[path if len(path) > 1 else path[0]]

    def report(self, start: date, end: date) -> OperationsReport:
        """The figures of every day from ``start`` to ``end`` (both included)."""
        first, after = self._bounds(start, end)
        days = {start + timedelta(days=n): Period((start + timedelta(days=n)).isoformat()) for n in range((end - start).days + 1)}
        total = Period(f"{start.isoformat()}~{end.isoformat()}")

        def periods(moment: datetime) -> list[Period]:
            return [days[self._day(moment)], total]

        with self.database.session() as session:
            in_range = (Turn.created_at >= first, Turn.created_at < after)
            for sender_id, at in session.execute(
                select(Turn.sender_id, Turn.created_at).where(Turn.role == "citizen", *in_range)
            ):
                for period in periods(at):
                    period.senders.add(sender_id)
                    period.messages += 1
            mode, crisis = self._field("mode").as_string(), self._field("crisis").as_string()
            took = self._field("decision", "total_ms").as_float()
            bot = select(Turn.created_at, mode, crisis, took).where(Turn.role == "bot", mode.in_(KNOWLEDGE_MODES), *in_range)
            for at, answer_mode, is_crisis, total_ms in session.execute(bot):
                if is_crisis:
                    continue  # a crisis reply is helplines, not a knowledge answer
                for period in periods(at):
                    period.answers += 1
                    period.fallbacks += answer_mode == "none"
                    if total_ms is not None:
                        period.answer_ms.append(float(total_ms))
            asked = select(Handoff.sender_id, Handoff.created_at).where(Handoff.created_at >= first, Handoff.created_at < after)
            for sender_id, at in session.execute(asked):
                for period in periods(at):
                    period.handoff_senders.add(sender_id)
                    period.handoffs += 1
            rated = select(Feedback.rating, Feedback.created_at).where(Feedback.created_at >= first, Feedback.created_at < after)
            for rating, at in session.execute(rated):
                for period in periods(at):
                    period.up += rating == "up"
                    period.down += rating == "down"
        return OperationsReport(start, end, list(days.values()), total, self.top_topics(first, after))

    def top_topics(self, first: datetime, after: datetime, limit: int = TOP_TOPICS) -> list[Topic]:
        """The questions asked most often without a good answer in the range (the unanswered inbox's grouping)."""
        days = max(1, math.ceil((after - first).total_seconds() / 86400))
        asked = [o for o in UnansweredQuestions(self.database).occurrences(days, now=after) if first <= o.at < after]
        groups = sorted(group_questions(asked), key=lambda g: (-g.count, -g.last_seen.timestamp()))
        return [Topic(group.variants()[0], group.count) for group in groups[:limit]]
