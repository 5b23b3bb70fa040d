"""KakaoTalk answers waiting for their user and callbackUrls held open, in the database every web replica shares.

A KakaoTalk answer that misses Kakao's 5-second budget is computed on one replica and may be delivered by
another: the one that gets the user's next message, or the one that answers a held callbackUrl (a callbackUrl
is just a URL to POST to, so any replica can use it once it reads the row). Each delivery first claims its
rows with ``UPDATE ... SET claimed_by=<replica> WHERE id=? AND (claimed_by IS NULL OR claimed_at < lease)``
and goes on only if that changed one row, so exactly one replica delivers, on SQLite and PostgreSQL alike. A
claim whose replica died is taken again after the lease; an answer whose computing replica died is closed
honestly (``INTERRUPTED``) after ``answer_lease_s``, or at once when that replica starts again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, delete, func, or_, select, update

from channels.conversation import BotMessage
from channels.store.database import Database
from channels.store.models import KakaoCallback, KakaoPendingAnswer

INTERRUPTED = "죄송해요. 답변을 준비하던 중에 중단되었어요. 같은 질문을 다시 보내 주세요."


def now_utc() -> datetime:
    """Now, in UTC, to the microsecond (leases and callback windows are seconds long)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class PendingAnswer:
    """One undelivered answer: ``messages`` is None while it is still being computed."""

    id: int
    messages: tuple[BotMessage, ...] | None
    computed_by: str
    created_at: datetime


@dataclass(frozen=True)
class HeldCallback:
    """A callbackUrl held open for ``sender``: for late answers (up to ``upto_answer_id``) or a person's reply."""

    id: int
    sender: str
    kind: str
    url: str
    upto_answer_id: int | None
    created_at: datetime
    expires_at: datetime


def encode_messages(messages: Sequence[BotMessage]) -> str:
    """The JSON kept for an answer's messages: each as the transcript records a bot turn."""
    return json.dumps([{"text": m.text, "id": m.turn_id, "meta": m.record_meta()} for m in messages], ensure_ascii=False)


def decode_messages(raw: str) -> tuple[BotMessage, ...]:
    """The messages back from :func:`encode_messages`."""
    return tuple(BotMessage.from_record(item) for item in json.loads(raw))


class KakaoInbox:
    """Pending Kakao answers and held callbackUrls, claimed by one replica at a time."""

    def __init__(self, database: Database, replica: str, lease_s: float, answer_lease_s: float) -> None:
        """``replica`` names this process in claims; ``lease_s`` frees a stale claim, ``answer_lease_s`` a lost answer."""
        self.database = database
        self.replica = replica
        self._lease = timedelta(seconds=lease_s)
        self._answer_lease = timedelta(seconds=answer_lease_s)

    def _claimable(self, model: type[KakaoPendingAnswer] | type[KakaoCallback], now: datetime) -> ColumnElement[bool]:
        return or_(model.claimed_by.is_(None), model.claimed_at < now - self._lease)

    # ---- answers ---------------------------------------------------------------------------------------
    def add(self, sender: str, computed_by: str, messages: Sequence[BotMessage] | None = None) -> int:
        """An answer that missed its request: being computed by ``computed_by`` (host:port), or ready; its id."""
        ready = {"status": "ready", "reply": encode_messages(messages)} if messages is not None else {"status": "computing"}
        row = KakaoPendingAnswer(sender_id=sender, computed_by=computed_by, created_at=now_utc(), **ready)
        with self.database.session() as session:
            session.add(row)
            session.flush()
            return row.id

    def complete(self, answer_id: int, messages: Sequence[BotMessage]) -> bool:
        """Store the computed messages; False when the answer was closed meanwhile (it is in the transcript)."""
        query = (
            update(KakaoPendingAnswer)
            .where(KakaoPendingAnswer.id == answer_id, KakaoPendingAnswer.status == "computing")
            .values(status="ready", reply=encode_messages(messages))
        )
        with self.database.session() as session:
            return session.execute(query).rowcount == 1  # type: ignore[attr-defined]

    def interrupt(self, *, sender: str | None = None, computed_by: str | None = None) -> int:
        """Close answers nobody will finish with :data:`INTERRUPTED`: older than the answer lease, or ``computed_by``'s.

        ``computed_by`` is given at start-up: what this process's predecessor left computing died with it.
        """
        stale = KakaoPendingAnswer.created_at < now_utc() - self._answer_lease
        lost = or_(stale, KakaoPendingAnswer.computed_by == computed_by) if computed_by else stale
        query = update(KakaoPendingAnswer).where(KakaoPendingAnswer.status == "computing", lost)
        if sender is not None:
            query = query.where(KakaoPendingAnswer.sender_id == sender)
        reply = encode_messages([BotMessage(INTERRUPTED, meta={"degraded": True})])
        with self.database.session() as session:
            return int(session.execute(query.values(status="ready", reply=reply)).rowcount)  # type: ignore[attr-defined]

    def undelivered(self, sender: str) -> list[PendingAnswer]:
        """The user's answers no delivery holds, oldest first (being computed, or ready)."""
        now = now_utc()
        query = (
            select(KakaoPendingAnswer)
            .where(KakaoPendingAnswer.sender_id == sender, KakaoPendingAnswer.status != "delivered")
            .where(self._claimable(KakaoPendingAnswer, now))
            .order_by(KakaoPendingAnswer.id)
        )
        with self.database.session() as session:
            rows = session.scalars(query).all()
        return [
            PendingAnswer(
                r.id, decode_messages(r.reply) if r.status == "ready" and r.reply else None, r.computed_by, r.created_at
            )
            for r in rows
        ]

    def abandoned(self, answer: PendingAnswer) -> bool:
        """Whether an answer still being computed is past the answer lease (its replica died)."""
        return answer.messages is None and answer.created_at < now_utc() - self._answer_lease

    def waiting(self, sender: str) -> int:
        """How many of the user's answers are not delivered yet (claimed ones included)."""
        query = select(func.count()).where(KakaoPendingAnswer.sender_id == sender, KakaoPendingAnswer.status != "delivered")
        with self.database.session() as session:
            return int(session.scalar(query) or 0)

    def claim_answer(self, answer_id: int, via: str | None = None) -> bool:
        """Take a ready answer for delivery; False when another delivery has it.

        With ``via`` it is recorded as delivered in the same statement (a reply carries it at once); without,
        :meth:`delivered` or :meth:`release` follows once the POST has been tried.
        """
        now = now_utc()
        done = {"status": "delivered", "delivered_at": now, "via": via} if via else {}
        query = (
            update(KakaoPendingAnswer)
            .where(KakaoPendingAnswer.id == answer_id, KakaoPendingAnswer.status == "ready")
            .where(self._claimable(KakaoPendingAnswer, now))
            .values(claimed_by=self.replica, claimed_at=now, **done)
        )
        with self.database.session() as session:
            return session.execute(query).rowcount == 1  # type: ignore[attr-defined]

    def delivered(self, answer_ids: Sequence[int], via: str) -> None:
        """Record claimed answers as delivered: no replica shows them again."""
        if answer_ids:
            query = (
                update(KakaoPendingAnswer)
                .where(KakaoPendingAnswer.id.in_(answer_ids), KakaoPendingAnswer.claimed_by == self.replica)
                .values(status="delivered", delivered_at=now_utc(), via=via)
            )
            with self.database.session() as session:
                session.execute(query)

    def release(self, answer_ids: Sequence[int]) -> None:
        """Give claimed answers back (their POST failed): the user's next message brings them."""
        if answer_ids:
            query = (
                update(KakaoPendingAnswer)
                .where(KakaoPendingAnswer.id.in_(answer_ids), KakaoPendingAnswer.claimed_by == self.replica)
                .values(claimed_by=None, claimed_at=None)
            )
            with self.database.session() as session:
                session.execute(query)

    # ---- callbacks -------------------------------------------------------------------------------------
    def hold(self, sender: str, kind: str, url: str, window_s: float, upto_answer_id: int | None = None) -> int:
        """Keep a callbackUrl open for ``window_s`` seconds; its id."""
        now = now_utc()
        row = KakaoCallback(
            sender_id=sender,
            kind=kind,
            url=url,
            upto_answer_id=upto_answer_id,
            created_at=now,
            expires_at=now + timedelta(seconds=window_s),
        )
        with self.database.session() as session:
            session.add(row)
            session.flush()
            return row.id

    def _callbacks(self, *conditions: ColumnElement[bool]) -> list[HeldCallback]:
        now = now_utc()
        query = (
            select(KakaoCallback)
            .where(KakaoCallback.done_at.is_(None), self._claimable(KakaoCallback, now), *conditions)
            .order_by(KakaoCallback.id)
        )
        with self.database.session() as session:
            rows = session.scalars(query).all()
        return [HeldCallback(r.id, r.sender_id, r.kind, r.url, r.upto_answer_id, r.created_at, r.expires_at) for r in rows]

    def open_callbacks(self, sender: str, kind: str) -> list[HeldCallback]:
        """The user's held callbackUrls of ``kind`` that nobody is using, oldest first."""
        return self._callbacks(KakaoCallback.sender_id == sender, KakaoCallback.kind == kind)

    def due_callbacks(self) -> list[HeldCallback]:
        """Held callbackUrls whose window has ended and that nobody is using."""
        return self._callbacks(KakaoCallback.expires_at <= now_utc())

    def claim_callback(self, callback_id: int) -> bool:
        """Take a held callbackUrl to POST to it; False when another replica has it or it was used."""
        now = now_utc()
        query = (
            update(KakaoCallback)
            .where(KakaoCallback.id == callback_id, KakaoCallback.done_at.is_(None), self._claimable(KakaoCallback, now))
            .values(claimed_by=self.replica, claimed_at=now)
        )
        with self.database.session() as session:
            return session.execute(query).rowcount == 1  # type: ignore[attr-defined]

    def finish_callback(self, callback_id: int) -> None:
        """The callbackUrl was used (or given up): never again."""
        with self.database.session() as session:
            session.execute(update(KakaoCallback).where(KakaoCallback.id == callback_id).values(done_at=now_utc()))

    def release_callback(self, callback_id: int) -> None:
        """Nothing to send yet: let the next finished answer (on any replica) or the window's end use it."""
        query = (
            update(KakaoCallback)
            .where(KakaoCallback.id == callback_id, KakaoCallback.claimed_by == self.replica)
            .values(claimed_by=None, claimed_at=None)
        )
        with self.database.session() as session:
            session.execute(query)

    # ---- housekeeping ----------------------------------------------------------------------------------
    def forget(self, sender: str) -> None:
        """Drop everything held for ``sender`` (their conversation was deleted on request)."""
        with self.database.session() as session:
            session.execute(delete(KakaoPendingAnswer).where(KakaoPendingAnswer.sender_id == sender))
            session.execute(delete(KakaoCallback).where(KakaoCallback.sender_id == sender))

    def prune(self, pending_ttl_s: float) -> None:
        """Forget delivered answers, used callbacks and answers nobody came back for (all stay in the transcripts)."""
        cutoff = now_utc() - timedelta(seconds=pending_ttl_s)
        with self.database.session() as session:
            session.execute(delete(KakaoPendingAnswer).where(KakaoPendingAnswer.created_at < cutoff))
            session.execute(
                delete(KakaoCallback).where(or_(KakaoCallback.done_at.is_not(None), KakaoCallback.created_at < cutoff))
            )
