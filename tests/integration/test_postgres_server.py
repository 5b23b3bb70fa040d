"""The `postgres_url` fixture is a real PostgreSQL server: separate sessions, committed rows shared, and no trace left."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.postgres import PostgresServer

pytestmark = pytest.mark.integration

metadata = sa.MetaData()
notes = sa.Table(
    "server_check_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.String(100), nullable=False),
)


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def texts(connection: sa.Connection) -> list[str]:
    return list(connection.scalars(sa.select(notes.c.text).order_by(notes.c.id)))


def test_the_fixture_is_a_postgresql_server(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        assert connection.dialect.name == "postgresql"
        connection.execute(sa.insert(notes), [{"text": "기초연금 상담"}, {"text": "주거급여 상담"}])
        assert texts(connection) == ["기초연금 상담", "주거급여 상담"]
        version = connection.dialect.server_version_info
        assert version is not None and version >= (12,)


def test_two_connections_see_each_others_committed_rows_only(engine: sa.Engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        assert first.scalar(sa.text("SELECT pg_backend_pid()")) != second.scalar(sa.text("SELECT pg_backend_pid()"))
        first.execute(sa.insert(notes).values(text="첫 번째"))
        assert texts(second) == [], "a row not yet committed is invisible to another session"
        first.commit()
        assert texts(second) == ["첫 번째"]
        second.execute(sa.insert(notes).values(text="두 번째"))
        second.commit()
        assert texts(first) == ["첫 번째", "두 번째"]
        first.commit()


def test_a_throwaway_server_stops_and_leaves_nothing_behind() -> None:
    server = PostgresServer(database="another")
    started = time.monotonic()
    with server as url:
        cluster = server.root_dir
        with sa.create_engine(url).connect() as connection:
            assert connection.scalar(sa.text("SELECT current_database()")) == "another"
        assert cluster is not None and (cluster / "data" / "PG_VERSION").exists()
    assert time.monotonic() - started < 30
    assert not cluster.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0, "the server still listens"
