"""The retention limit: ``bokji purge`` deletes conversation data older than ``BOKJI_PRIVACY__RETENTION_DAYS``.

Deleted: turns and their ratings and Kakao delivery records, live-update events, and handoffs that ended
(returned, closed, cancelled) with their internal notes, and Rasa's tracker events (``rasa_events``). Kept: a conversation a person is handling now
(waiting or with an agent: its turns too, whatever their age), the newest live-update event (its id is the
cursor every open console and widget follows, and SQLite would hand a deleted highest id out again), staff
accounts, canned responses, the knowledge and the audit log, which is append-only and holds no message text.
One audit entry "purged" (actor: the system) records the counts.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select

from channels.privacy.citizen_data import Counts, deleted_rows
from channels.privacy.tracker import TrackerEvents
from channels.store.database import Database
from channels.store.models import ACTIVE_STATES, AuditEntry, ChatEvent, Feedback, Handoff, KakaoDeliveredTurn, Note, Turn, utcnow

ENDED_STATES = ("returned", "closed", "cancelled")


class Retention:
    """Deletes what is older than the retention limit."""

    def __init__(self, database: Database, days: int, tracker: TrackerEvents | None = None) -> None:
        """Keep ``days`` days of conversations (also in Rasa's tracker store, when ``tracker`` is given)."""
        self.database = database
        self.days = days
        self.tracker = tracker

    def cutoff(self, now: datetime | None = None) -> datetime:
        """Everything stored before this instant is past the limit."""
        return (now or utcnow()) - timedelta(days=self.days)

    def purge(self, now: datetime | None = None, *, dry_run: bool = False) -> Counts:
        """Delete (or with ``dry_run`` only count) what is past the limit; a real run leaves one audit entry."""
        cutoff = self.cutoff(now)
        with self.database.session() as session:
            busy = select(Handoff.sender_id).where(Handoff.state.in_(ACTIVE_STATES))
            old_turns = select(Turn.id).where(Turn.created_at < cutoff, Turn.sender_id.not_in(busy))
            ended = select(Handoff.id).where(
                Handoff.state.in_(ENDED_STATES),
                or_(and_(Handoff.ended_at.is_not(None), Handoff.ended_at < cutoff),
                    and_(Handoff.ended_at.is_(None), Handoff.created_at < cutoff)),
            )  # fmt: skip
            newest_event = select(func.max(ChatEvent.id)).scalar_subquery()
            targets = {
                "feedback": (Feedback, Feedback.turn_id.in_(old_turns)),
                "deliveries": (KakaoDeliveredTurn, KakaoDeliveredTurn.turn_id.in_(old_turns)),
                "notes": (Note, Note.handoff_id.in_(ended)),
                "handoffs": (Handoff, Handoff.id.in_(ended)),
                "events": (ChatEvent, and_(ChatEvent.created_at < cutoff, ChatEvent.id < newest_event)),
                "turns": (Turn, Turn.id.in_(old_turns)),
            }
            counts: dict[str, int] = {}
            for name, (model, where) in targets.items():  # dependants before what they point to
                if dry_run:
                    counts[name] = int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)
                else:
                    counts[name] = deleted_rows(session, delete(model).where(where))
            if self.tracker is not None and not dry_run:  # Rasa's events of the same conversations (dry run: not counted)
                kept = session.scalars(busy.distinct()).all()
                counts["rasa_events"] = self.tracker.purge_before(cutoff, keep=kept) or 0
            found = Counts(**counts)
            if not dry_run:  # also when nothing was due: the entry shows the limit is kept
                detail = {**counts, "days": self.days, "before": cutoff.isoformat()}
                session.add(AuditEntry(at=utcnow(), actor_id=None, action="purged", detail=json.dumps(detail)))
        return found
