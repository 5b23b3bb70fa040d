"""Conversations filed under a raw KakaoTalk user key, from before sender ids were pseudonymised, re-filed.

Before :mod:`channels.privacy.sender_ids` a KakaoTalk conversation was kept as ``kakao:<botUserKey>``. The
key is in the id itself, so each such conversation is moved to ``kakao:<keyed hash>`` in every table that
files by sender (turns, ratings, handoffs, live events, Kakao deliveries) and in Rasa's tracker store: the
user's next message continues the same conversation and form, and no raw key stays behind. The audit log
is append-only (its triggers refuse UPDATE) and is left as written; it holds sender ids of staff actions only.

Runs when the web app starts (cheap: one indexed query when nothing is left) and is idempotent.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select, update

from channels.privacy.sender_ids import HASH_CHARS, SenderIds
from channels.privacy.tracker import TrackerEvents
from channels.store.database import Database
from channels.store.models import ChatEvent, Feedback, Handoff, KakaoDeliveredTurn, Turn

logger = logging.getLogger(__name__)

PSEUDONYM = re.compile(rf"^kakao:[0-9a-f]{{{HASH_CHARS}}}$")
TABLES = (Turn, Feedback, Handoff, ChatEvent, KakaoDeliveredTurn)


def legacy_kakao_senders(database: Database) -> list[str]:
    """Sender ids that still carry a KakaoTalk user key (``kakao:`` followed by anything but a pseudonym)."""
    senders: set[str] = set()
    with database.session() as session:
        for table in (Turn, Handoff):
            # A range rather than LIKE: SQLite's LIKE ignores case and cannot use the sender index (this runs at start).
            kakao = (table.sender_id >= "kakao:") & (table.sender_id < "kakao;")
            senders.update(session.scalars(select(table.sender_id).where(kakao).distinct()))
    return sorted(s for s in senders if not PSEUDONYM.match(s))


def refile_legacy_kakao(database: Database, sender_ids: SenderIds, trackers: TrackerEvents | None = None) -> int:
    """Move every legacy KakaoTalk conversation to its pseudonym; returns how many conversations moved."""
    legacy = legacy_kakao_senders(database)
    for old in legacy:
        new = sender_ids.kakao(old.removeprefix("kakao:"))
        with database.session() as session:
            for table in TABLES:
                session.execute(update(table).where(table.sender_id == old).values(sender_id=new))
        if trackers is not None:
            trackers.rename(old, new)
    if legacy:
        logger.info("re-filed %d KakaoTalk conversations kept under a raw user key under their pseudonyms", len(legacy))
    return len(legacy)
