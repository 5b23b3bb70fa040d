"""Kakao's 5-second rule: answer in time, through the callbackUrl, or on the user's next message.

Answers are computed on a bounded thread pool. A skill request waits for its answer only until its budget
runs out; then the answer goes to the request's callbackUrl (once, within its minute) or, without one,
waits in the user's inbox and is shown on their next message.

Staff turns (an agent's reply, "a person joined", "back to the bot", "closed") cannot be pushed to Kakao.
They wait in the durable outbox (channels/kakao_outbox.py) and go out first in the response to the user's
next request, "상담원:" before an agent's words. While a person has the chat the bot is silent, so a message
that arrives with a callbackUrl is held open (useCallback) for the rest of its window: an agent reply in that
time goes out at once, else the user is told it will come with their next message. With the Event API on,
a reply without an open callback is pushed through it (paid); if that fails it waits for the next message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from channels.conversation import BotMessage, ChatReply, Conversation
from channels.kakao_events import EventApi
from channels.kakao_outbox import KakaoOutbox, StaffTurn
from channels.settings import KakaoSettings
from channels.skill_response import callback_ack, fetch_quick_reply, render, text_response

logger = logging.getLogger(__name__)

HOLDING = "질문을 잘 받았어요. 답변을 준비하는 데 시간이 조금 걸리고 있어요. 잠시 후 아래 '답변 보기'를 눌러 주세요."
MORE_WAITING = "다음 답변도 준비되어 있거나 준비하고 있어요. 이어서 보시려면 '답변 보기'를 눌러 주세요."
NOTHING_WAITING = "지금 기다리고 있는 답변은 없어요. 궁금한 복지 제도를 편하게 물어봐 주세요."
STILL_PREPARING = "답변이 평소보다 늦어지고 있어요. 잠시 후 '답변 보기'를 눌러 주시면 바로 보여 드릴게요."
BUSY = "지금 문의가 많아 답변이 늦어지고 있어요. 잠시 후 다시 보내 주세요."
FORWARDED = "상담원에게 메시지를 전달했어요. 상담원의 답은 다음에 메시지를 보내실 때 전해 드려요."
FORWARDING = "상담원에게 메시지를 전달했어요. 잠시 상담원의 답을 기다려 볼게요..."
NO_REPLY_YET = "상담원의 답이 아직 없어요. 답이 오면 다음에 메시지를 보내실 때 전해 드려요."

MAX_WAITING_PER_USER = 3
_PRUNE_EVERY_S = 30.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def kakao_sender(user_id: str) -> str:
    """The Rasa sender id of a KakaoTalk user (their botUserKey), so turns and forms carry over."""
    return f"kakao:{user_id}"


def callback_allowed(url: str, hosts: Sequence[str]) -> bool:
    """Whether ``url`` is a callbackUrl we may POST to: https on a configured host (http only on loopback)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        return False
    return any(host == h.lower() or host.endswith("." + h.lower()) for h in hosts)


class CallbackPoster(Protocol):
    """Sends a finished SkillResponse to a callbackUrl."""

    def post(self, url: str, body: dict[str, Any]) -> bool:
        """POST once; True when Kakao accepted it."""
        ...


class HttpCallbackPoster:
    """POSTs callbacks with httpx (the client is built here, no request is made)."""

    def __init__(self, timeout_s: float) -> None:
        """Create the pooled HTTP client."""
        self._http = httpx.Client(timeout=timeout_s)

    def post(self, url: str, body: dict[str, Any]) -> bool:
        """POST once; a failure is logged, never raised (the URL cannot be used again anyway)."""
        try:
            response = self._http.post(url, json=body)
        except httpx.HTTPError as exc:
            logger.warning("kakao callback failed: %s", exc)
            return False
        if not response.is_success:
            logger.warning("kakao callback answered %d: %s", response.status_code, response.text[:200])
        return response.is_success

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()


@dataclass
class _Inbox:
    """Answers of one user not yet shown to them, oldest first."""

    answers: deque[Future[ChatReply]] = field(default_factory=deque)
    touched: float = 0.0


class KakaoDelivery:
    """Runs the shared conversation for Kakao users and gets each answer to them within Kakao's rules."""

    def __init__(
        self,
        conversation: Conversation,
        settings: KakaoSettings,
        poster: CallbackPoster | None = None,
        event_api: EventApi | None = None,
    ) -> None:
        """Keep the parts and listen for staff turns; the thread pools start their threads on first use."""
        self._conversation = conversation
        self._settings = settings
        self._poster = poster or HttpCallbackPoster(settings.callback_timeout_s)
        self._handoffs = conversation.handoffs
        self._outbox = KakaoOutbox(self._handoffs.database) if self._handoffs is not None else None
        self._events = event_api or (EventApi(settings) if settings.event_api else None)
        self._holds: dict[str, _Hold] = {}
        # Pushes of one user's staff turns run one at a time, so a second never finds the first's turns claimed.
        self._push_locks = [threading.Lock() for _ in range(16)]
        self._answers = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="kakao-answer")
        self._posts = ThreadPoolExecutor(max_workers=max(2, settings.workers // 2), thread_name_prefix="kakao-callback")
        self._lock = threading.Lock()
        self._inboxes: dict[str, _Inbox] = {}
        self._in_flight = 0
        # One user's messages reach the conversation in order; 64 stripes bound the number of locks.
        self._user_locks = [threading.Lock() for _ in range(64)]
        self._last_prune = time.monotonic()
        if self._handoffs is not None:
            self._handoffs.on_staff_turn(self.deliver_agent_reply)

    def respond(
        self, user_id: str, text: str | None, callback_url: str | None, received: float, label: str | None = None
    ) -> dict[str, Any]:
        """The SkillResponse for one request; ``text`` None means "show what is waiting for me".

        ``received`` is the ``time.monotonic()`` instant the request arrived: the budget counts from there.
        """
        deadline = received + self._settings.answer_budget_s
        sender = kakao_sender(user_id)
        future: Future[ChatReply] | None = None
        with self._lock:
            self._prune(received)
            inbox = self._inboxes.setdefault(sender, _Inbox())
            inbox.touched = received
            if text is not None:
                if self._in_flight >= self._settings.max_in_flight or len(inbox.answers) >= MAX_WAITING_PER_USER:
                    logger.warning("kakao: turning a message away (%d answers in flight)", self._in_flight)
                    return text_response(BUSY)
                self._in_flight += 1
                future = self._answers.submit(self._answer, sender, text, label)
                inbox.answers.append(future)
        if future is not None:
            # Outside the lock: a future that is already done runs the callback right here.
            future.add_done_callback(self._finished)
        delivered = self._collect(inbox, deadline)
        with self._lock:
            waiting = len(inbox.answers)
            if not waiting and self._inboxes.get(sender) is inbox:
                del self._inboxes[sender]
        usable_callback = bool(callback_url) and callback_allowed(callback_url or "", self._settings.callback_hosts)
        if delivered:
            silent = all(not r.messages for r in delivered)  # a person has the chat: the bot said nothing
            if silent and not waiting and usable_callback and callback_url and not self._pending(sender):
                self._hold(sender, callback_url, received + self._settings.callback_window_s)
                return callback_ack(FORWARDING)
            return self._render(sender, delivered, more_waiting=waiting > 0)
        if not waiting:
            return self._compose(sender, [], via="reply")[0]
        if usable_callback and callback_url:
            with self._lock:
                claimed = list(inbox.answers)
                inbox.answers.clear()
            deadline_cb = received + self._settings.callback_window_s
            _CallbackJob(sender, callback_url, claimed, deadline_cb, self._schedule_callback).start()
            return callback_ack()
        if callback_url:
            logger.warning("kakao: ignoring a callbackUrl outside the allowed hosts")
        return self._compose(sender, [], notice=HOLDING, quick=[fetch_quick_reply()], via="reply")[0]

    def deliver_agent_reply(self, sender_id: str) -> None:
        """Staff wrote to ``sender_id``: send it now through an open callbackUrl or the Event API, if there is a way.

        HandoffService calls this after every reply and notice (it is registered as its staff-turn listener);
        the work runs on the callback pool, so the console's request does not wait for Kakao.
        """
        if self._outbox is None or not sender_id.startswith("kakao:"):
            return
        try:
            self._posts.submit(self._push_logged, sender_id)
        except RuntimeError:
            logger.warning("kakao: shutting down, staff message for %s waits for the next message", sender_id)

    def close(self) -> None:
        """Stop the pools without waiting (answers already computed stay in the transcripts)."""
        self._answers.shutdown(wait=False, cancel_futures=True)
        self._posts.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            holds = list(self._holds.values())
            self._holds.clear()
        for hold in holds:
            hold.cancel()
        if self._events is not None:
            self._events.close()

    def _answer(self, sender: str, text: str, label: str | None) -> ChatReply:
        with self._user_locks[hash(sender) % len(self._user_locks)]:
            try:
                return self._conversation.handle(sender, text, label)
            except Exception:
                logger.exception("kakao: the conversation failed for %s", sender)
                return self._conversation.fallback_reply(text)

    def _finished(self, _future: Future[ChatReply]) -> None:
        with self._lock:
            self._in_flight -= 1

    def _fits(self, replies: list[ChatReply]) -> bool:
        return render([m for r in replies for m in r.messages], operator=self._settings.operator_button).complete

    def _render(self, sender: str, replies: list[ChatReply], more_waiting: bool, via: str = "reply") -> dict[str, Any]:
        return self._render_claiming(sender, replies, more_waiting, via)[0]

    def _render_claiming(
        self, sender: str, replies: list[ChatReply], more_waiting: bool, via: str
    ) -> tuple[dict[str, Any], list[StaffTurn]]:
        """Staff turns waiting for this user, then the replies (a silent reply: the message went to the person)."""
        messages = [m for r in replies for m in r.messages]
        if any(not r.messages for r in replies):
            messages.append(BotMessage(FORWARDED, meta={"mode": "handoff"}))
        notice = MORE_WAITING if more_waiting else None
        return self._compose(sender, messages, notice=notice, quick=[fetch_quick_reply()] if more_waiting else (), via=via)

    def _pending(self, sender: str) -> list[StaffTurn]:
        return self._outbox.pending(sender) if self._outbox is not None else []

    def _person(self, sender: str) -> bool:
        """Whether a person has or is about to take the chat (then 상담직원 연결 is offered, if the channel has it)."""
        return self._handoffs is not None and self._handoffs.active(sender) is not None

    def _compose(
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
        staff = self._pending(sender)
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

    def _collect(self, inbox: _Inbox, deadline: float) -> list[ChatReply]:
        """Take the answers that are ready by ``deadline``, in order, as many as one response can show."""
        delivered: list[ChatReply] = []
        while True:
            with self._lock:
                head = inbox.answers[0] if inbox.answers else None
            if head is None:
                return delivered
            try:
                reply = head.result(timeout=max(0.0, deadline - time.monotonic()))
            except (FutureTimeout, CancelledError):
                return delivered
            if delivered and not self._fits(delivered + [reply]):
                return delivered
            with self._lock:
                if not inbox.answers or inbox.answers[0] is not head:
                    continue  # a concurrent request of the same user took it
                inbox.answers.popleft()
            delivered.append(reply)

    def _requeue(self, sender: str, futures: list[Future[ChatReply]]) -> None:
        """Put answers back in front of the user's inbox for their next message."""
        with self._lock:
            inbox = self._inboxes.setdefault(sender, _Inbox())
            inbox.touched = time.monotonic()
            inbox.answers.extendleft(reversed(futures))

    def _schedule_callback(self, job: _CallbackJob, ready: bool) -> None:
        try:
            self._posts.submit(self._post_callback_logged, job, ready)
        except RuntimeError:
            logger.warning("kakao: shutting down, callback for %s not sent", job.sender)

    def _post_callback_logged(self, job: _CallbackJob, ready: bool) -> None:
        try:
            self._post_callback(job, ready)
        except Exception:  # a pool swallows exceptions silently; the answer stays in the transcript
            logger.exception("kakao: callback for %s failed", job.sender)

    def _post_callback(self, job: _CallbackJob, ready: bool) -> None:
        """POST the answers (or a "still preparing" note) to the callbackUrl, exactly once."""
        if ready and any(f.cancelled() for f in job.futures):
            return
        if not ready:
            self._poster.post(job.url, text_response(STILL_PREPARING, [fetch_quick_reply()]))
            self._requeue(job.sender, job.futures)
            return
        replies = [f.result() for f in job.futures]
        count = 1
        while count < len(replies) and self._fits(replies[: count + 1]):
            count += 1
        body, staff = self._render_claiming(job.sender, replies[:count], count < len(replies), "callback")
        if not self._poster.post(job.url, body):
            count = 0
            if self._outbox is not None:
                self._outbox.release(staff)
        if count < len(replies):
            self._requeue(job.sender, job.futures[count:])

    def _hold(self, sender: str, url: str, deadline: float) -> None:
        """Keep the user's callbackUrl open for a person's reply until ``deadline`` (an older one is answered now)."""
        hold = _Hold(sender, url, deadline, self._hold_expired)
        with self._lock:
            older = self._holds.get(sender)
            self._holds[sender] = hold
        if older is not None:
            older.expire_now()
        hold.start()

    def _hold_expired(self, hold: _Hold) -> None:
        """Nobody answered within the window: say the reply comes with the next message (staff turns if any)."""
        try:
            self._posts.submit(self._answer_hold, hold, False)
        except RuntimeError:
            logger.warning("kakao: shutting down, callback for %s not sent", hold.sender)

    def _push_logged(self, sender: str) -> None:
        try:
            with self._push_locks[hash(sender) % len(self._push_locks)]:
                self._push(sender)
        except Exception:  # a pool swallows exceptions silently; the staff turn stays in the outbox
            logger.exception("kakao: pushing a staff message to %s failed", sender)

    def _push(self, sender: str) -> None:
        """Send waiting staff turns now: through the user's open callbackUrl, else the Event API if it is on."""
        with self._lock:
            hold = self._holds.get(sender)
        if hold is not None and self._answer_hold(hold, True):
            return
        if self._events is None or self._outbox is None:
            return
        staff = self._outbox.pending(sender)
        if not staff or not self._outbox.claim(sender, staff, "event_api"):
            return
        text = "\n\n".join(t.message.text for t in staff)
        if not self._events.send(sender.split(":", 1)[1], text):
            self._outbox.release(staff)  # the user's next message brings it
            logger.warning("kakao: event api did not take the staff message for %s; it waits for the next message", sender)

    def _answer_hold(self, hold: _Hold, for_staff: bool) -> bool:
        """POST to a held callbackUrl once; with ``for_staff`` only when there is a staff turn to carry."""
        with hold.lock:
            if hold.done or (for_staff and not self._pending(hold.sender)):
                return False
            body, staff = self._compose(hold.sender, [], via="callback")  # no staff turn: NO_REPLY_YET
            if for_staff and not staff:
                return False
            hold.done = True
        hold.cancel()
        with self._lock:
            if self._holds.get(hold.sender) is hold:
                del self._holds[hold.sender]
        if not self._poster.post(hold.url, body) and self._outbox is not None:
            self._outbox.release(staff)
        return True

    def _prune(self, now: float) -> None:
        """Forget inboxes nobody came back for (their turns stay in the transcripts)."""
        if now - self._last_prune < _PRUNE_EVERY_S:
            return
        self._last_prune = now
        stale = [s for s, box in self._inboxes.items() if now - box.touched > self._settings.pending_ttl_s]
        for sender in stale:
            del self._inboxes[sender]


class _CallbackJob:
    """Waits, without holding a thread, until the claimed answers are done or the callback window ends."""

    def __init__(
        self,
        sender: str,
        url: str,
        futures: list[Future[ChatReply]],
        deadline: float,
        on_fire: Callable[[_CallbackJob, bool], None],
    ) -> None:
        """Keep what to send where; ``deadline`` is a ``time.monotonic()`` instant; ``on_fire`` runs once."""
        self.sender = sender
        self.url = url
        self.futures = futures
        self._on_fire = on_fire
        self._lock = threading.Lock()
        self._fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire, kwargs={"ready": False})
        self._timer.daemon = True

    def start(self) -> None:
        """Arm the deadline and listen for the answers."""
        self._timer.start()
        for future in self.futures:
            future.add_done_callback(self._one_done)

    def _one_done(self, _future: Future[ChatReply]) -> None:
        if all(f.done() for f in self.futures):
            self._fire(ready=True)

    def _fire(self, ready: bool) -> None:
        with self._lock:
            if self._fired:
                return
            self._fired = True
        self._timer.cancel()
        self._on_fire(self, ready)


class _Hold:
    """A callbackUrl kept open while a person has the chat: answered once, by a staff turn or at ``deadline``."""

    def __init__(self, sender: str, url: str, deadline: float, on_expiry: Callable[[_Hold], None]) -> None:
        """Keep what to send where; ``deadline`` is a ``time.monotonic()`` instant."""
        self.sender = sender
        self.url = url
        self.lock = threading.Lock()
        self.done = False
        self._on_expiry = on_expiry
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), on_expiry, args=(self,))
        self._timer.daemon = True

    def start(self) -> None:
        """Arm the deadline."""
        self._timer.start()

    def expire_now(self) -> None:
        """Answer it at once (a newer message brought a newer callbackUrl)."""
        self._timer.cancel()
        self._on_expiry(self)

    def cancel(self) -> None:
        """Disarm the deadline."""
        self._timer.cancel()
