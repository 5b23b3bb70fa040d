"""Kakao's 5-second rule: answer in time, through the callbackUrl, or on the user's next message.

Answers are computed on a bounded thread pool and kept in the database every web replica shares
(channels/kakao_inbox.py). A skill request waits for its answer only until its budget runs out; then the
answer goes to the request's callbackUrl (once, within its minute, POSTed by whichever replica finishes the
answer or sees the window end) or, without one, waits and is shown on the user's next message, on any
replica. Staff turns (an agent's reply, handoff notices) ride along first in every response, or go out
sooner when a way is open (channels/kakao_staff.py).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from channels.conversation import ChatReply, Conversation
from channels.kakao_events import EventApi
from channels.kakao_inbox import HeldCallback, KakaoInbox, PendingAnswer
from channels.kakao_staff import FORWARDING, StaffDelivery, callback_expired
from channels.privacy.sender_ids import SenderIds
from channels.settings import KakaoSettings
from channels.skill_response import callback_ack, fetch_quick_reply, render, text_response
from channels.store.database import Database

logger = logging.getLogger(__name__)

HOLDING = "질문을 잘 받았어요. 답변을 준비하는 데 시간이 조금 걸리고 있어요. 잠시 후 아래 '답변 보기'를 눌러 주세요."
STILL_PREPARING = "답변이 평소보다 늦어지고 있어요. 잠시 후 '답변 보기'를 눌러 주시면 바로 보여 드릴게요."
BUSY = "지금 문의가 많아 답변이 늦어지고 있어요. 잠시 후 다시 보내 주세요."

MAX_WAITING_PER_USER = 3
_PRUNE_EVERY_S = 30.0
# How often a request waiting for an answer another replica computes looks again, and how often each replica
# looks for held callbackUrls whose window has ended (whoever held them may have died; a replica's own are
# looked at the moment their window ends).
_POLL_S = 0.1
_SWEEP_S = 1.0
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


_SHOWN = -1  # a _Job's row when its own request showed it: never kept in the database


@dataclass
class _Job:
    """One answer being computed here; it reaches the database only if its request cannot show it in time."""

    sender: str
    future: Future[ChatReply] | None = None
    reply: ChatReply | None = None
    row: int | None = None  # its row once kept (or _SHOWN)
    lock: threading.Lock = field(default_factory=threading.Lock)


class KakaoDelivery:
    """Runs the shared conversation for Kakao users and gets each answer to them within Kakao's rules."""

    def __init__(
        self,
        conversation: Conversation,
        settings: KakaoSettings,
        database: Database,
        poster: CallbackPoster | None = None,
        event_api: EventApi | None = None,
        sender_ids: SenderIds | None = None,
        writer: str = "",
    ) -> None:
        """Keep the parts and listen for staff turns; the thread pools start their threads on first use.

        ``sender_ids`` turns botUserKeys into the sender ids everything else sees (without: a random key, tests).
        ``writer`` names this web process (host:port) so that, started again, it closes the answers it left
        (:meth:`close_abandoned`).
        """
        self._conversation = conversation
        self.sender_ids = sender_ids or SenderIds(secrets.token_bytes(32))
        self._settings = settings
        self._writer = writer or f"{socket.gethostname()}:{os.getpid()}"
        self._inbox = KakaoInbox(
            database, f"{self._writer}:{secrets.token_hex(4)}", settings.claim_lease_s, settings.answer_lease_s
        )
        self._poster = poster or HttpCallbackPoster(settings.callback_timeout_s)
        self._answers = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="kakao-answer")
        self._posts = ThreadPoolExecutor(max_workers=max(2, settings.workers // 2), thread_name_prefix="kakao-callback")
        self._lock = threading.Lock()
        self._local: dict[int, Future[ChatReply]] = {}  # answers this replica computes, to wait on without polling
        self._in_flight = 0
        # One user's messages reach the conversation in order; 64 stripes bound the number of locks.
        self._user_locks = [threading.Lock() for _ in range(64)]
        self._last_prune = time.monotonic()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a callback window held here ends: sweep now
        self._sweeper: threading.Thread | None = None
        self._staff = StaffDelivery(
            conversation.handoffs, settings, self._poster.post, self._posts, self._inbox, self.sender_ids, event_api
        )
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
        self._start_sweeper()
        self._prune(received)
        if self._staff.recipients is not None:
            self._staff.recipients.remember(sender, user_id)
        job = self._start_answer(sender, text, label) if text is not None else None
        if text is not None and job is None:
            logger.warning("kakao: turning a message away (%d answers in flight)", self._in_flight)
            return text_response(BUSY)
        delivered = self._collect(sender, deadline, job)
        waiting = self._inbox.waiting(sender)
        usable_callback = bool(callback_url) and callback_allowed(callback_url or "", self._settings.callback_hosts)
        if delivered:
            silent = all(not r.messages for r in delivered)  # a person has the chat: the bot said nothing
            if silent and not waiting and usable_callback and callback_url and not self._staff.pending(sender):
                window_s = self._window(received)
                self._staff.hold(sender, callback_url, window_s)
                self._arm(window_s)
                return callback_ack(FORWARDING)
            return self._staff.replies(sender, delivered, waiting > 0, "reply")[0]
        if not waiting:
            return self._staff.compose(sender, [], via="reply")[0]
        pending = self._inbox.undelivered(sender) if usable_callback and callback_url else []
        if pending and callback_url:  # (waiting answers all claimed by another delivery: the user asks again)
            window_s = self._window(received)
            self._inbox.hold(sender, "answers", callback_url, window_s, pending[-1].id)
            self._arm(window_s)
            try:
                self._posts.submit(self._flush_logged, sender)  # an answer that finished just now found no callback
            except RuntimeError:
                logger.warning("kakao: shutting down, the callback for %s is left to another replica", sender)
            return callback_ack()
        if callback_url and not usable_callback:
            logger.warning("kakao: ignoring a callbackUrl outside the allowed hosts")
        return self._staff.compose(sender, [], notice=HOLDING, quick=[fetch_quick_reply()], via="reply")[0]

    def close_abandoned(self) -> int:
        """At start: close with an apology the answers this process's predecessor was computing (they died with it)."""
        return self._inbox.interrupt(computed_by=self._writer)

    def forget(self, sender: str) -> None:
        """Drop what is held for ``sender`` (their conversation was deleted on request)."""
        self._inbox.forget(sender)
        if self._staff.recipients is not None:
            self._staff.recipients.forget(sender)

    def deliver_agent_reply(self, sender_id: str) -> None:
        """Staff wrote to ``sender_id``: send it now through an open callbackUrl or the Event API, if there is a way.

        HandoffService calls this after every reply and notice (it is registered as its staff-turn listener);
        the work runs on the callback pool, so the console's request does not wait for Kakao. A callbackUrl
        held by another replica is found in the database. Whatever cannot go now goes out first in the
        response to the user's next message.
        """
        self._staff.push(sender_id)

    def close(self) -> None:
        """Stop the pools and the sweeper without waiting (what is not delivered stays in the database)."""
        self._stop.set()
        self._wake.set()
        self._answers.shutdown(wait=False, cancel_futures=True)
        self._posts.shutdown(wait=False, cancel_futures=True)
        self._staff.close()

    def _start_answer(self, sender: str, text: str, label: str | None) -> _Job | None:
        """Compute a new answer on the pool; None when too many are in flight or waiting."""
        with self._lock:
            busy = self._in_flight >= self._settings.max_in_flight
        if busy or self._inbox.waiting(sender) >= MAX_WAITING_PER_USER:
            return None
        job = _Job(sender)
        with self._lock:
            self._in_flight += 1
            # In the request's context, so the answer's log lines and Rasa metadata carry its request id.
            job.future = self._answers.submit(contextvars.copy_context().run, self._answer, job, text, label)
        # Outside the lock: a future that is already done runs the callback right here.
        job.future.add_done_callback(functools.partial(self._finished, job))
        return job

    def _answer(self, job: _Job, text: str, label: str | None) -> ChatReply:
        with self._user_locks[hash(job.sender) % len(self._user_locks)]:
            try:
                reply = self._conversation.handle(job.sender, text, label)
            except Exception:
                logger.exception("kakao: the conversation failed for %s", job.sender)
                reply = self._conversation.fallback_reply(text)
        with job.lock:
            job.reply = reply
            row = job.row
        if row is None or row == _SHOWN:
            return reply  # its request shows it, or is about to keep it in the database
        try:
            if not self._inbox.complete(row, reply.messages):
                logger.warning("kakao: answer %d for %s came after it was closed; it is in the transcript", row, job.sender)
            self._flush(job.sender)
        except Exception:  # the database is down: the answer stays in the transcript
            logger.exception("kakao: keeping answer %d for %s failed", row, job.sender)
        return reply

    def _finished(self, job: _Job, _future: Future[ChatReply]) -> None:
        with self._lock:
            self._in_flight -= 1
            if job.row is not None:
                self._local.pop(job.row, None)

    def _keep(self, job: _Job) -> None:
        """The request cannot show its own answer: keep it in the database for the next message or a callback."""
        with job.lock:
            if job.row is not None:
                return
            messages = job.reply.messages if job.reply is not None else None
            job.row = self._inbox.add(job.sender, self._writer, messages)
            if messages is None and job.future is not None and not job.future.done():
                with self._lock:
                    self._local[job.row] = job.future

    def _fits(self, replies: list[ChatReply]) -> bool:
        return render([m for r in replies for m in r.messages], operator=self._settings.operator_button).complete

    def _collect(self, sender: str, deadline: float, job: _Job | None) -> list[ChatReply]:
        """Take the user's answers that are ready by ``deadline``, in order, as many as one response can show.

        First those kept in the database (claimed and recorded as delivered in one statement, so no other replica
        shows them), then ``job``, this request's own answer, which touches the database only when it is late:
        an answer computed here is waited for directly, one another replica computes is looked up every ``_POLL_S``.
        """
        delivered = self._collect_kept(sender, deadline)
        if job is None:
            return delivered
        assert job.future is not None
        if not self._inbox.undelivered(sender):  # nothing older still waits: this request may show its own answer
            try:
                job.future.result(timeout=max(0.0, deadline - time.monotonic()))
            except (FutureTimeout, CancelledError):
                pass
            with job.lock:
                reply = job.reply if job.row is None else None
                if reply is not None and (not delivered or self._fits(delivered + [reply])):
                    job.row = _SHOWN
                    return delivered + [reply]
        self._keep(job)
        return delivered

    def _collect_kept(self, sender: str, deadline: float) -> list[ChatReply]:
        delivered: list[ChatReply] = []
        while True:
            pending = self._inbox.undelivered(sender)
            if not pending:
                return delivered
            head = pending[0]
            if self._inbox.abandoned(head):  # its replica died long ago: it ends with an apology
                self._inbox.interrupt(sender=sender)
                continue
            if head.messages is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return delivered
                with self._lock:
                    future = self._local.get(head.id)
                if future is None:
                    time.sleep(min(_POLL_S, remaining))
                    continue
                try:
                    future.result(timeout=remaining)
                except (FutureTimeout, CancelledError):
                    return delivered
                continue
            reply = ChatReply(messages=head.messages)
            if delivered and not self._fits(delivered + [reply]):
                return delivered
            if self._inbox.claim_answer(head.id, via="reply"):  # else a concurrent delivery took it: look again
                delivered.append(reply)

    def _flush(self, sender: str) -> None:
        """Answer the user's held callbackUrls whose answers are all ready (the first finisher, on any replica, wins)."""
        for callback in self._inbox.open_callbacks(sender, "answers"):
            self._use_callback(callback, at_deadline=False)

    def _window(self, received: float) -> float:
        """The rest of a callbackUrl's window: it counts from the request, as Kakao's minute does."""
        return max(0.0, received + self._settings.callback_window_s - time.monotonic())

    def _arm(self, window_s: float) -> None:
        """Sweep when a window held here ends (armed after the row is written, so the row is due by then)."""
        timer = threading.Timer(window_s, self._wake.set)
        timer.daemon = True
        timer.start()

    def _flush_logged(self, sender: str) -> None:
        try:
            self._flush(sender)
        except Exception:  # a pool swallows exceptions silently; the window's end or the next message brings the answers
            logger.exception("kakao: answering a held callback for %s failed", sender)

    def _start_sweeper(self) -> None:
        """Start looking for held callbackUrls whose window ended (on first use: a replica Kakao never reaches idles)."""
        with self._lock:
            if self._sweeper is not None or self._stop.is_set():
                return
            self._sweeper = threading.Thread(target=self._sweep, name="kakao-sweeper", daemon=True)
        self._sweeper.start()

    def _sweep(self) -> None:
        failing = False
        while True:
            self._wake.wait(_SWEEP_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                for callback in self._inbox.due_callbacks():
                    if callback.kind == "staff":
                        self._staff.answer_due(callback)
                    else:
                        self._posts.submit(self._use_callback_logged, callback)
                failing = False
            except RuntimeError:
                return  # the pools are shut down
            except Exception:  # the database is briefly unreachable: try again on the next round, say so once
                if not failing:
                    logger.exception("kakao: looking for ended callback windows failed")
                failing = True

    def _use_callback_logged(self, callback: HeldCallback) -> None:
        try:
            self._use_callback(callback, at_deadline=True)
        except Exception:  # a pool swallows exceptions silently; the answers stay for the next message
            logger.exception("kakao: callback for %s failed", callback.sender)

    def _use_callback(self, callback: HeldCallback, at_deadline: bool) -> None:
        """POST the answers a callbackUrl waits for (or, at its deadline, a "still preparing" note), exactly once."""
        if not self._inbox.claim_callback(callback.id):
            return
        pending = [a for a in self._inbox.undelivered(callback.sender) if a.id <= (callback.upto_answer_id or 0)]
        ready = all(a.messages is not None for a in pending)
        if not ready and not at_deadline:
            self._inbox.release_callback(callback.id)
            return
        try:
            if callback_expired(callback) or not pending:
                return  # Kakao no longer takes it, or a reply to a newer message showed the answers
            if not ready:
                self._poster.post(callback.url, text_response(STILL_PREPARING, [fetch_quick_reply()]))
                return
            self._post_answers(callback, pending)
        finally:
            self._inbox.finish_callback(callback.id)

    def _post_answers(self, callback: HeldCallback, pending: list[PendingAnswer]) -> None:
        """Claim the ready answers, as many as one response shows, and POST them; failed: they wait for the next message."""
        replies: list[ChatReply] = []
        taken: list[int] = []
        for answer in pending:
            reply = ChatReply(messages=answer.messages or ())
            if (replies and not self._fits(replies + [reply])) or not self._inbox.claim_answer(answer.id):
                break
            replies.append(reply)
            taken.append(answer.id)
        if not replies:
            return
        more = self._inbox.waiting(callback.sender) > len(taken)
        body, staff = self._staff.replies(callback.sender, replies, more, "callback")
        if self._poster.post(callback.url, body):
            self._inbox.delivered(taken, "callback")
        else:
            self._inbox.release(taken)
            self._staff.release(staff)

    def _prune(self, now: float) -> None:
        """Forget delivered answers and used callbacks now and then (every turn stays in the transcripts)."""
        with self._lock:
            if now - self._last_prune < _PRUNE_EVERY_S:
                return
            self._last_prune = now
        self._inbox.prune(self._settings.pending_ttl_s)
