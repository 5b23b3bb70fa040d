"""Kakao's 5-second rule: answer in time, through the callbackUrl, or on the user's next message.

Answers are computed on a bounded thread pool. A skill request waits for its answer only until its budget
runs out; then the answer goes to the request's callbackUrl (once, within its minute) or, without one,
waits in the user's inbox and is shown on their next message. Staff turns (an agent's reply, handoff
notices) ride along first in every response, or go out sooner when a way is open (channels/kakao_staff.py).
"""

from __future__ import annotations

import contextvars
import logging
import secrets
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

from channels.conversation import ChatReply, Conversation
from channels.kakao_events import EventApi
from channels.kakao_staff import FORWARDING, StaffDelivery
from channels.privacy.sender_ids import SenderIds
from channels.settings import KakaoSettings
from channels.skill_response import callback_ack, fetch_quick_reply, render, text_response

logger = logging.getLogger(__name__)

HOLDING = "질문을 잘 받았어요. 답변을 준비하는 데 시간이 조금 걸리고 있어요. 잠시 후 아래 '답변 보기'를 눌러 주세요."
STILL_PREPARING = "답변이 평소보다 늦어지고 있어요. 잠시 후 '답변 보기'를 눌러 주시면 바로 보여 드릴게요."
BUSY = "지금 문의가 많아 답변이 늦어지고 있어요. 잠시 후 다시 보내 주세요."

MAX_WAITING_PER_USER = 3
_PRUNE_EVERY_S = 30.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


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
        sender_ids: SenderIds | None = None,
    ) -> None:
        """Keep the parts and listen for staff turns; the thread pools start their threads on first use.

        ``sender_ids`` turns botUserKeys into the sender ids everything else sees (without: a random key, tests).
        """
        self._conversation = conversation
        self.sender_ids = sender_ids or SenderIds(secrets.token_bytes(32))
        self._settings = settings
        self._poster = poster or HttpCallbackPoster(settings.callback_timeout_s)
        self._answers = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="kakao-answer")
        self._posts = ThreadPoolExecutor(max_workers=max(2, settings.workers // 2), thread_name_prefix="kakao-callback")
        self._lock = threading.Lock()
        self._inboxes: dict[str, _Inbox] = {}
        self._in_flight = 0
        # One user's messages reach the conversation in order; 64 stripes bound the number of locks.
        self._user_locks = [threading.Lock() for _ in range(64)]
        self._last_prune = time.monotonic()
        self._staff = StaffDelivery(conversation.handoffs, settings, self._poster.post, self._posts, event_api)
        if conversation.handoffs is not None:
            conversation.handoffs.on_staff_turn(self.deliver_agent_reply)

    def respond(
        self, user_id: str, text: str | None, callback_url: str | None, received: float, label: str | None = None
    ) -> dict[str, Any]:
        """The SkillResponse for one request; ``text`` None means "show what is waiting for me".

        ``received`` is the ``time.monotonic()`` instant the request arrived: the budget counts from there.
        """
        deadline = received + self._settings.answer_budget_s
        sender = self.sender_ids.kakao(user_id)
        if self._staff.recipients is not None:
            self._staff.recipients.remember(sender, user_id)
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
                # In the request's context, so the answer's log lines and Rasa metadata carry its request id.
                future = self._answers.submit(contextvars.copy_context().run, self._answer, sender, text, label)
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
            if silent and not waiting and usable_callback and callback_url and not self._staff.pending(sender):
                self._staff.hold(sender, callback_url, received + self._settings.callback_window_s)
                return callback_ack(FORWARDING)
            return self._staff.replies(sender, delivered, waiting > 0, "reply")[0]
        if not waiting:
            return self._staff.compose(sender, [], via="reply")[0]
        if usable_callback and callback_url:
            with self._lock:
                claimed = list(inbox.answers)
                inbox.answers.clear()
            deadline_cb = received + self._settings.callback_window_s
            _CallbackJob(sender, callback_url, claimed, deadline_cb, self._schedule_callback).start()
            return callback_ack()
        if callback_url:
            logger.warning("kakao: ignoring a callbackUrl outside the allowed hosts")
        return self._staff.compose(sender, [], notice=HOLDING, quick=[fetch_quick_reply()], via="reply")[0]

    def forget(self, sender: str) -> None:
        """Drop what is held in memory for ``sender`` (their conversation was deleted on request)."""
        with self._lock:
            self._inboxes.pop(sender, None)
        if self._staff.recipients is not None:
            self._staff.recipients.forget(sender)

    def deliver_agent_reply(self, sender_id: str) -> None:
        """Staff wrote to ``sender_id``: send it now through an open callbackUrl or the Event API, if there is a way.

        HandoffService calls this after every reply and notice (it is registered as its staff-turn listener);
        the work runs on the callback pool, so the console's request does not wait for Kakao. Whatever cannot
        go now goes out first in the response to the user's next message.
        """
        self._staff.push(sender_id)

    def close(self) -> None:
        """Stop the pools without waiting (answers already computed stay in the transcripts)."""
        self._answers.shutdown(wait=False, cancel_futures=True)
        self._posts.shutdown(wait=False, cancel_futures=True)
        self._staff.close()

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
        body, staff = self._staff.replies(job.sender, replies[:count], count < len(replies), "callback")
        if not self._poster.post(job.url, body):
            count = 0
            self._staff.release(staff)
        if count < len(replies):
            self._requeue(job.sender, job.futures[count:])

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
