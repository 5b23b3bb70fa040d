"""Staff words to a KakaoTalk user: in the next response, through a callbackUrl held open, or the Event API.

A skill server cannot push to Kakao. An agent's reply and the notices staff actions write wait in the durable
outbox (channels/kakao_outbox.py) and go out first in the response to the user's next request, "상담원:"
before an agent's words, as many as fit whole (the rest on the next request, with 답변 보기). While a person
has the chat the bot is silent, so a message that arrives with a callbackUrl is held open (useCallback) for
the rest of its window: an agent reply in that time goes out at once, else the user is told it comes with
their next message. With the Event API on, a reply without an open callback is pushed through it (paid);
if Kakao does not take it, it waits for the next message. Nothing is lost, nothing is sent twice. Held callbackUrls
and Event API recipients are rows of the shared database (channels/kakao_inbox.py), so a reply written in the console
on one web replica reaches a callbackUrl another replica holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any

from channels.conversation import BotMessage, ChatReply
from channels.handoff import HandoffService
from channels.kakao_events import RECIPIENT_TTL_S, EventApi, Recipients
from channels.kakao_inbox import HeldCallback, KakaoInbox, now_utc
from channels.kakao_outbox import KakaoOutbox, StaffTurn
from channels.privacy.sender_ids import SenderIds
from channels.settings import KakaoSettings
from channels.skill_response import fetch_quick_reply, render

logger = logging.getLogger(__name__)

MORE_WAITING = "다음 답변도 준비되어 있거나 준비하고 있어요. 이어서 보시려면 '답변 보기'를 눌러 주세요."
NOTHING_WAITING = "지금 기다리고 있는 답변은 없어요. 궁금한 복지 제도를 편하게 물어봐 주세요."
FORWARDED = "상담원에게 메시지를 전달했어요. 상담원의 답은 다음에 메시지를 보내실 때 전해 드려요."
FORWARDING = "상담원에게 메시지를 전달했어요. 잠시 상담원의 답을 기다려 볼게요..."
NO_REPLY_YET = "상담원의 답이 아직 없어요. 답이 오면 다음에 메시지를 보내실 때 전해 드려요."
# Kakao keeps a callbackUrl valid for one minute from the request, which came up to 4.5 s (the most
# BOKJI_KAKAO__ANSWER_BUDGET_S allows) before its row: past that, a held one is given up unused.
CALLBACK_VALID = timedelta(seconds=55)


def callback_expired(callback: HeldCallback) -> bool:
    """Whether Kakao no longer takes a POST to this held callbackUrl."""
    return now_utc() > callback.created_at + CALLBACK_VALID


class StaffDelivery:
    """Gets staff turns to Kakao users exactly once, by whichever way is open."""

    def __init__(
        self,
        handoffs: HandoffService | None,
        settings: KakaoSettings,
        post: Callable[[str, dict[str, Any]], bool],
        pool: Executor,
        inbox: KakaoInbox,
        sender_ids: SenderIds,
        event_api: EventApi | None = None,
    ) -> None:
        """Use the handoffs (their database holds the outbox), the callback POST and pool, the shared holds, the Event API if on."""
        self._handoffs = handoffs
        self._settings = settings
        self._post = post
        self._pool = pool
        self._inbox = inbox
        self._outbox = KakaoOutbox(handoffs.database) if handoffs is not None else None
        self._events = event_api or (EventApi(settings) if settings.event_api else None)
        # The Event API addresses users by botUserKey; only it needs them, so only with it on are they kept (sealed).
        self.recipients = Recipients(inbox.database, sender_ids, RECIPIENT_TTL_S) if self._events is not None else None
        # Pushes of one user's staff turns run one at a time, so a second never finds the first's turns claimed.
        self._push_locks = [threading.Lock() for _ in range(16)]

    def push(self, sender: str) -> None:
        """Staff wrote to ``sender``: send it now if a way is open (on the pool; the console does not wait)."""
        if self._outbox is None or not sender.startswith("kakao:"):
            return
        try:
            self._pool.submit(self._push_logged, sender)
        except RuntimeError:
            logger.warning("kakao: shutting down, staff message for %s waits for the next message", sender)

    def close(self) -> None:
        """Close the Event API client (held callbacks stay in the database for any replica to answer)."""
        if self._events is not None:
            self._events.close()

    def replies(
        self, sender: str, replies: list[ChatReply], more_waiting: bool, via: str
    ) -> tuple[dict[str, Any], list[StaffTurn]]:
        """Staff turns waiting for this user, then the replies (a silent reply: the message went to the person)."""
        messages = [m for r in replies for m in r.messages]
        if any(not r.messages for r in replies):
            messages.append(BotMessage(FORWARDED, meta={"mode": "handoff"}))
        notice = MORE_WAITING if more_waiting else None
        return self.compose(sender, messages, notice=notice, quick=[fetch_quick_reply()] if more_waiting else (), via=via)

    def pending(self, sender: str) -> list[StaffTurn]:
        """Staff turns not yet delivered to this user, oldest first."""
        return self._outbox.pending(sender) if self._outbox is not None else []

    def release(self, staff: list[StaffTurn]) -> None:
        """Undo the claim of staff turns whose POST failed: they go out with the next message."""
        if self._outbox is not None:
            self._outbox.release(staff)

    def _person(self, sender: str) -> bool:
        """Whether a person has or is about to take the chat (then 상담직원 연결 is offered, if the channel has it)."""
        return self._handoffs is not None and self._handoffs.active(sender) is not None

    def compose(
        self,
        sender: str,
        messages: list[BotMessage],
        *,
        notice: str | None = None,
        quick: Sequence[dict[str, Any]] = (),
        via: str,
    ) -> tuple[dict[str, Any], list[StaffTurn]]:
        """One SkillResponse: undelivered staff turns first (claimed as delivered ``via``), then ``messages``.

        Staff turns are taken oldest first, as many as fit whole beside ``messages``; the rest wait for the
        next request (the user is told and gets 답변 보기). Returns the body and the staff turns it carries.
        """
        person = self._person(sender)
        staff = self.pending(sender)
        take, notice_used, card = self._fit(staff, messages, notice, person)
        more = len(take) < len(staff)
        if take and not (self._outbox is not None and self._outbox.claim(sender, take, via)):
            take, notice_used, card, more = [], notice, person, False  # another delivery has just sent them
        if more and not quick:
            quick = [fetch_quick_reply()]
        shown = [t.message for t in take] + messages
        if not shown and notice_used is None:
            shown = [BotMessage(NO_REPLY_YET if person else NOTHING_WAITING)]
        rendered = render(
            shown, operator=self._settings.operator_button, notice=notice_used, first_quick_replies=quick, person=card
        )
        return rendered.body, take

    def _fit(
        self, staff: list[StaffTurn], messages: list[BotMessage], notice: str | None, person: bool
    ) -> tuple[list[StaffTurn], str | None, bool]:
        """The most staff turns that fit whole before ``messages``, with the notice and whether the 상담직원 card stays.

        The card and the "more is waiting" notice give way to staff words; with no messages at least one
        staff turn always goes out (cut only past three 1,000-character bubbles), so none waits forever.
        """
        operator = self._settings.operator_button

        def complete(turns: list[StaffTurn], note: str | None, card: bool) -> bool:
            shown = [t.message for t in turns] + messages
            return render(shown, operator=operator, notice=note, person=card).complete

        if not staff or (messages and not complete([], notice, person)):
            return [], notice, person
        for count in range(len(staff), 0, -1):
            more_note = notice or (MORE_WAITING if count < len(staff) else None)
            for note, card in ((more_note, person), (notice, person), (more_note, False), (notice, False)):
                if complete(staff[:count], note, card):
                    return staff[:count], note, card
        return (staff[:1], notice, False) if not messages else ([], notice, person)

    def hold(self, sender: str, url: str, window_s: float) -> None:
        """Keep the user's callbackUrl open for a person's reply for ``window_s`` (an older one is answered now)."""
        for older in self._inbox.open_callbacks(sender, "staff"):
            self.answer_due(older)
        self._inbox.hold(sender, "staff", url, window_s)

    def answer_due(self, callback: HeldCallback) -> None:
        """Nobody answered within the window: say the reply comes with the next message (staff turns if any)."""
        try:
            self._pool.submit(self._answer_hold_logged, callback, False)
        except RuntimeError:
            logger.warning("kakao: shutting down, callback for %s left to another replica", callback.sender)

    def _answer_hold_logged(self, callback: HeldCallback, for_staff: bool) -> None:
        try:
            self._answer_hold(callback, for_staff)
        except Exception:  # a pool swallows exceptions silently; staff turns stay in the outbox
            logger.exception("kakao: answering a held callback for %s failed", callback.sender)

    def _push_logged(self, sender: str) -> None:
        try:
            with self._push_locks[hash(sender) % len(self._push_locks)]:
                self._push(sender)
        except Exception:  # a pool swallows exceptions silently; the staff turn stays in the outbox
            logger.exception("kakao: pushing a staff message to %s failed", sender)

    def _push(self, sender: str) -> None:
        """Send waiting staff turns now: through the user's open callbackUrl (held by any replica), else the Event API."""
        for hold in self._inbox.open_callbacks(sender, "staff"):
            if self._answer_hold(hold, True):
                return
        if self._events is None or self._outbox is None:
            return
        user_key = self.recipients.get(sender) if self.recipients is not None else None
        if user_key is None:
            logger.info("kakao: %s has not written recently; the staff message waits for their next message", sender)
            return
        staff = self._outbox.pending(sender)
        if not staff or not self._outbox.claim(sender, staff, "event_api"):
            return
        text = "\n\n".join(t.message.text for t in staff)
        if not self._events.send(user_key, text):
            self._outbox.release(staff)  # the user's next message brings it
            logger.warning("kakao: event api did not take the staff message for %s; it waits for the next message", sender)

    def _answer_hold(self, hold: HeldCallback, for_staff: bool) -> bool:
        """POST to a held callbackUrl once; with ``for_staff`` only when there is a staff turn to carry.

        The row is claimed first, so of the replicas that try (the one with the staff reply, the one that sees
        the window end) exactly one POSTs; one past Kakao's minute is given up and the turns wait for the next message.
        """
        if (for_staff and not self.pending(hold.sender)) or not self._inbox.claim_callback(hold.id):
            return False
        if callback_expired(hold):
            self._inbox.finish_callback(hold.id)
            return False
        body, staff = self.compose(hold.sender, [], via="callback")  # no staff turn: NO_REPLY_YET
        if for_staff and not staff:
            self._inbox.release_callback(hold.id)
            return False
        try:
            if not self._post(hold.url, body) and self._outbox is not None:
                self._outbox.release(staff)
        finally:
            self._inbox.finish_callback(hold.id)
        return True
