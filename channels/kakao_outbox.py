"""What staff wrote to a KakaoTalk user that has not reached them yet, and the durable record of what has.

A skill server cannot push to Kakao: an agent's reply and the handoff notices staff actions write (a person
joined, the chat went back to the bot, it was closed) wait here until the user's next message, a callbackUrl
still open, or the Event API carries them. Each staff turn is delivered once: ``claim`` inserts one row per
turn in ``kakao_delivered_turns`` in one transaction, so of two deliveries racing for the same turns (two
requests, a request and an Event API push) exactly one wins, on SQLite and PostgreSQL alike, and a restarted
app neither repeats nor forgets one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from channels.conversation import BotMessage
from channels.store.database import Database
from channels.store.models import KakaoDeliveredTurn, Turn, utcnow

AGENT_PREFIX = "상담원: "
# The notices HandoffService writes when staff act (the queue and cancel notices answer the user's own message).
STAFF_NOTICES = ("with_agent", "returned", "closed")


@dataclass(frozen=True)
class StaffTurn:
    """One undelivered staff turn, as the message the Kakao user reads."""

    turn_id: int
    message: BotMessage


class KakaoOutbox:
    """Undelivered staff turns of Kakao chats, oldest first, and their one-time delivery."""

    def __init__(self, database: Database) -> None:
        """Use the staff database (upgraded to revision 0003 or later)."""
        self.database = database

    def pending(self, sender_id: str) -> list[StaffTurn]:
        """Agent replies and staff-action notices of this chat that no delivery has claimed, oldest first."""
        delivered = exists().where(KakaoDeliveredTurn.turn_id == Turn.id)
        query = (
            select(Turn)
            .where(Turn.sender_id == sender_id, ~delivered)
            .where(or_(Turn.role == "agent", (Turn.role == "bot") & Turn.meta.contains("handoff_state")))
            .order_by(Turn.id)
        )
        with self.database.session() as session:
            turns = session.scalars(query).all()
        staff: list[StaffTurn] = []
        for turn in turns:
            meta = json.loads(turn.meta or "{}")
            if turn.role == "agent":
                staff.append(StaffTurn(turn.id, BotMessage(AGENT_PREFIX + turn.text, meta={"mode": "agent"}, turn_id=turn.id)))
            elif meta.get("handoff_state") in STAFF_NOTICES:
                staff.append(StaffTurn(turn.id, BotMessage(turn.text, meta=meta, turn_id=turn.id)))
        return staff

    def claim(self, sender_id: str, turns: list[StaffTurn], via: str) -> bool:
        """Record ``turns`` as delivered; False (nothing recorded) when another delivery claimed one first."""
        if not turns:
            return True
        try:
            with self.database.session() as session:
                session.add_all(
                    KakaoDeliveredTurn(turn_id=t.turn_id, sender_id=sender_id, via=via, delivered_at=utcnow()) for t in turns
                )
        except IntegrityError:
            return False
        return True

    def release(self, turns: list[StaffTurn]) -> None:
        """Undo a claim whose delivery failed, so the turns go out with the user's next message."""
        ids = [t.turn_id for t in turns]
        if not ids:
            return
        with self.database.session() as session:
            for row in session.scalars(select(KakaoDeliveredTurn).where(KakaoDeliveredTurn.turn_id.in_(ids))).all():
                session.delete(row)
