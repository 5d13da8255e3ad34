"""The relational database: one async SQLAlchemy engine for SQLite or PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)
# aiosqlite logs every statement with its parameters at DEBUG: password hashes and
# token hashes included. Secrets never reach a log, whatever the level asked for.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite enforce what PostgreSQL enforces, and serialise writers cleanly.

    - ``foreign_keys=ON``: SQLite ignores foreign keys unless asked, per connection.
    - WAL lets readers run beside the single writer.
    - ``BEGIN IMMEDIATE`` takes the write lock when a transaction starts, so two
      transactions never deadlock upgrading a read lock (which SQLite answers
      with an immediate SQLITE_BUSY that ``busy_timeout`` does not retry).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, autocommit: bool = False
) -> AsyncEngine:
    """An engine for ``url``; SQLite files get their folder created and pragmas set.
    ``autocommit`` (PostgreSQL): statements run outside transactions."""
    if is_sqlite(url):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        # Mostly kept open: a connection past the pool size is closed when it is
        # returned, and opening one again (TCP, TLS attempt, auth) under load costs
        # more than the query it serves.
        pool_size=pool_size * 2,
        max_overflow=pool_size,
        # No pre-ping: with asyncpg it costs a BEGIN, a SELECT 1 and a ROLLBACK per
        # checkout, and every message:send checks out at least once (a sequential send
        # loop: 40 -> 87 sends/s). A connection the server closed fails only its own
        # statement: SQLAlchemy sees the disconnect and replaces the pool's connections.
        pool_pre_ping=False,
        pool_recycle=1800,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )


class Database:
    """The engine and its session factory, built once per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: reads need no transaction of their own (each statement sees
        # the latest commits, as in READ COMMITTED). An engine of their own in
        # autocommit saves BEGIN and ROLLBACK around each read, and around the
        # pool's pre-ping, which asyncpg wraps in a transaction otherwise: four
        # round trips of the seven a history page took. SQLite keeps one engine.
        self._read_engine: AsyncEngine | None = None
        self._reads = self.sessions
        if self.kind == "postgresql":
            self._read_engine = create_engine(url, echo=echo, autocommit=True)
            self._reads = async_sessionmaker(self._read_engine, expire_on_commit=False)

    @property
    def kind(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return make_url(self.url).get_backend_name()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (nothing it writes is kept)."""
        async with self._reads() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not None:
            await self._read_engine.dispose()
