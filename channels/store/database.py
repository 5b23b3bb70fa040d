"""One engine per process, sessions with one transaction each, and the Alembic upgrade at start-up.

SQLite by default (``var/conversations.sqlite3``: zero set-up), PostgreSQL when ``BOKJI_DATABASE_URL``
says so (``postgresql+psycopg://user@host/db``). A database file from before migrations existed (the
transcript file of earlier releases) is recognised and upgraded in place, so no turn or handoff is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock held while the schema is upgraded (any constant no other code uses).
MIGRATION_LOCK = 0x626F6B6A69

LEGACY_REVISION = "0001"  # the schema of the transcript file before migrations existed
HEAD = "head"


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite database file."""
    return f"sqlite:///{path}"


class Database:
    """The staff database: build once in the app factory (or a command) and pass it down."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        """Create the engine (no connection is made here)."""
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    def upgrade(self) -> str:
        """Bring the schema to the newest migration; returns the revision it is at.

        A legacy transcript file (tables but no ``alembic_version``) is first stamped with the
        revision that describes it, so the next migration converts its rows instead of failing.
        """
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            if connection.dialect.name == "postgresql":
                # Web replicas start together: one migrates, the others wait here and then find the schema current.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            tables = set(inspect(connection).get_table_names())
            if "turns" in tables and "alembic_version" not in tables:
                command.stamp(config, LEGACY_REVISION)
            command.upgrade(config, HEAD)
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        return str(version)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
