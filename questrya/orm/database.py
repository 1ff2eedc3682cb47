"""Engines, sessions and schema upgrades for SQLite (one machine) and PostgreSQL (many)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from questrya.orm.sqlite_driver import BEGIN_IMMEDIATE, OneTripAiosqlite, OneTripConnection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)

SQLITE_POOL_TIMEOUT_SECONDS = 60

# Any fixed number: every process upgrading the same PostgreSQL database waits on it.
_POSTGRES_MIGRATION_LOCK = 7_216_531


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`, set up for its database (SQLite pragmas, Postgres pool)."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_sqlite_engine(url)
    return _create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (they are translated right away)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def upgrade_database(url: str) -> None:
    """Migrate the database at `url` to the latest schema; quick when it is already there."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head)
    finally:
        await engine.dispose()


def alembic_config() -> Config:
    """Alembic's configuration, built in code: the migrations live inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def create_sqlite_engine(url: str, *, pool_size: int = 1, max_overflow: int = 0) -> AsyncEngine:
    """A SQLite engine on the one-trip aiosqlite adapter, with pragmas and IMMEDIATE BEGINs.

    SQLite has one writer at a time. One connection per process (the default) makes this
    process's transactions queue in the pool, in order, instead of each polling the file lock
    with growing sleeps; other processes still wait on the lock (see begin_when_unlocked).
    """
    _create_parent_directory(url)
    engine = _create_async_engine(
        url,
        module=OneTripAiosqlite(),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=SQLITE_POOL_TIMEOUT_SECONDS,
    )
    event.listen(engine.sync_engine, "connect", _prepare_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def _create_parent_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _prepare_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling skips BEGIN before SELECT and SAVEPOINT, which
    # breaks rollback of savepoints; _begin_sqlite_transaction emits BEGIN instead.
    dbapi_connection.isolation_level = None
    # One script, one call, where a cursor per pragma took nine: every work horse opens its
    # own connection for each job.
    script = "".join(f"{pragma};" for pragma in SQLITE_PRAGMAS)
    dbapi_connection.run_async(lambda driver_connection: driver_connection.executescript(script))


def _begin_sqlite_transaction(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so a writer waits (busy_timeout) instead of
    # failing with "database is locked" when it upgrades a read transaction to a write.
    dbapi_connection = connection.connection.dbapi_connection
    if not isinstance(dbapi_connection, OneTripConnection):
        raise TypeError(f"not a one-trip aiosqlite connection: {dbapi_connection!r}")
    dbapi_connection.begin_with_next_statement(BEGIN_IMMEDIATE)


def _upgrade_to_head(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_POSTGRES_MIGRATION_LOCK})")
    current = MigrationContext.configure(connection).get_current_revision()
    if current == _script_directory().get_current_head():
        return
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@functools.cache
def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())
