"""Rasa's tracker store: where it lives, and erasing or purging conversations in it (its slots and every message).

Rasa keeps trackers in a SQL tracker store (bot/endpoints.yml): ``rasa_tracker.sqlite3`` in the data dir by
default, the project's PostgreSQL database when ``BOKJI_DATABASE_URL`` names one. Rasa 3.6's HTTP API cannot
empty a stored tracker (``PUT .../tracker/events`` only appends to a SQL store), so the web app and the
``bokji`` commands delete the rows of Rasa's ``events`` table themselves. Rasa reads the tracker afresh for
every message, so the next message of an erased conversation starts clean.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Float, Integer, MetaData, String, Table, create_engine, delete, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

TRACKER_FILE = "rasa_tracker.sqlite3"

# The columns of Rasa's SQLTrackerStore.SQLEvent that erasing and purging need (Rasa creates the table).
_EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


def tracker_database_url(database_url: str, data_dir: Path) -> str:
    """The tracker store as the web app opens it: the staff database on PostgreSQL, else its own SQLite file.

    A separate SQLite file keeps Rasa's SQLAlchemy 1.4 and the web app's SQLAlchemy 2 from contending for
    one file's write lock on every turn.
    """
    if database_url and make_url(database_url).get_backend_name() == "postgresql":
        return database_url
    return f"sqlite:///{(data_dir / TRACKER_FILE).resolve()}"


def rasa_tracker_url(url: str) -> str:
    """``url`` as Rasa opens it: its environment has psycopg2, and its working directory is bot/ (paths absolute)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    elif parsed.get_backend_name() == "sqlite" and parsed.database:
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    return parsed.render_as_string(hide_password=False)


class TrackerEvents:
    """Deletes rows of Rasa's ``events`` table (no connection is made until a method is called)."""

    def __init__(self, url: str) -> None:
        """``url``: the tracker store's SQLAlchemy URL (:func:`tracker_database_url`)."""
        parsed = make_url(url)
        self._file = Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None
        connect_args = {"timeout": 10} if self._file else {}
        self._engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)

    def erase(self, sender_id: str) -> bool:
        """Delete every event of ``sender_id``; False (logged) when the store could not be reached."""
        return self._delete(_EVENTS.c.sender_id == sender_id) is not None

    def count(self, sender_id: str) -> int:
        """How many events of ``sender_id`` the store holds (0 when it holds none or cannot be reached)."""
        if self._file is not None and not self._file.exists():
            return 0
        try:
            with self._engine.connect() as connection:
                if not self._engine.dialect.has_table(connection, "events"):
                    return 0
                query = select(func.count()).select_from(_EVENTS).where(_EVENTS.c.sender_id == sender_id)
                return int(connection.scalar(query) or 0)
        except SQLAlchemyError as exc:
            logger.warning("privacy: Rasa's tracker store could not be read: %s", type(exc).__name__)
            return 0

    def purge_before(self, cutoff: datetime, keep: Collection[str] = ()) -> int | None:
        """Delete events older than ``cutoff``, except those of the senders in ``keep``; how many (None: unreachable)."""
        aware = cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=timezone.utc)
        where = _EVENTS.c.timestamp < aware.timestamp()
        if keep:
            where = where & _EVENTS.c.sender_id.not_in(list(keep))
        return self._delete(where)

    def rename(self, old: str, new: str) -> bool:
        """File the events of ``old`` under ``new`` (Rasa then continues that conversation as ``new``)."""
        return self._change(update(_EVENTS).where(_EVENTS.c.sender_id == old).values(sender_id=new)) is not None

    def _delete(self, where: Any) -> int | None:
        return self._change(delete(_EVENTS).where(where))

    def _change(self, statement: Any) -> int | None:
        if self._file is not None and not self._file.exists():
            return 0  # Rasa never stored a conversation here: nothing to change (and no empty file made)
        try:
            with self._engine.begin() as connection:
                if not self._engine.dialect.has_table(connection, "events"):
                    return 0
                return int(cast("CursorResult[Any]", connection.execute(statement)).rowcount or 0)
        except SQLAlchemyError as exc:
            logger.warning("privacy: Rasa's tracker store could not be changed: %s", type(exc).__name__)
            return None

    def dispose(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()
