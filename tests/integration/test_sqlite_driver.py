"""The one-trip aiosqlite adapter: what SQLAlchemy reads off a cursor, in one call a statement,
on the event loop's thread.

Every other SQLite test runs on it too; these pin what it promises on its own: the calls, the
IMMEDIATE lock taken with a transaction's first statement, waiting for that lock without
blocking the event loop, and errors as SQLAlchemy's.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from questrya.orm.database import create_engine
from questrya.orm.sqlite_driver import InlineConnection, OneTripConnection
from questrya.workers.runtime import worker_engine
from tests.integration.conftest import sqlite_url

pytestmark = pytest.mark.asyncio

LOCK_HELD_SECONDS = 0.3
TICK_SECONDS = 0.01


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url(tmp_path))
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        )
    yield engine
    await engine.dispose()


def database_file(engine: AsyncEngine) -> str:
    database = engine.url.database
    assert database is not None
    return database


async def count_calls(connection: AsyncConnection) -> list[str]:
    """Each call made to the aiosqlite connection from now on, by name."""
    raw = await connection.get_raw_connection()
    adapted = raw.dbapi_connection
    assert isinstance(adapted, OneTripConnection)
    driver = adapted.driver_connection
    calls: list[str] = []
    real_execute: Callable[..., Any] = driver._execute

    async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(function, "__name__", repr(function)))
        return await real_execute(function, *args, **kwargs)

    driver._execute = counted  # type: ignore[method-assign]
    return calls


def lock_is_free(engine: AsyncEngine) -> bool:
    """Whether another process could take the write lock right now."""
    other = sqlite3.connect(database_file(engine), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


async def test_a_transaction_costs_one_call_per_statement_and_one_to_commit(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        calls = await count_calls(connection)
        await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        rows = (await connection.execute(text("SELECT id, name FROM item"))).all()
        await connection.commit()

    assert rows == [(1, "a")]
    assert calls == ["_run_statement", "_run_statement", "commit"]


async def test_the_first_statement_takes_the_write_lock_even_when_it_only_reads(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT count(*) FROM item"))
        assert not lock_is_free(engine)
        await connection.rollback()
        assert lock_is_free(engine)


async def test_a_transaction_that_ran_nothing_sends_nothing_and_holds_no_lock(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        calls = await count_calls(connection)
        await connection.begin()
        assert lock_is_free(engine)
        await connection.commit()
        await connection.begin()
        await connection.rollback()

    assert calls == []


async def test_a_locked_database_fails_the_first_statement_and_the_connection_recovers(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        await connection.exec_driver_sql("PRAGMA busy_timeout=50")
        await connection.commit()
        holder = sqlite3.connect(database_file(engine), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            await connection.execute(text("SELECT 1"))
        await connection.rollback()
        holder.execute("ROLLBACK")
        holder.close()

        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1


async def test_a_transaction_waits_for_another_connections_lock_and_the_loop_runs_meanwhile(
    engine: AsyncEngine,
) -> None:
    holder = sqlite3.connect(database_file(engine), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO item (name) VALUES ('held')")
    # Released from another thread: a blocked event loop could not release it.
    release = threading.Timer(LOCK_HELD_SECONDS, holder.commit)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(TICK_SECONDS)
            ticks += 1

    ticker = asyncio.create_task(tick())
    release.start()
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (name) VALUES ('waited')"))
    finally:
        ticker.cancel()
        release.join()
        holder.close()

    assert ticks >= LOCK_HELD_SECONDS / TICK_SECONDS / 2
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM item ORDER BY id"))).scalars()
        assert list(names) == ["held", "waited"]


async def test_statements_inside_a_transaction_keep_the_connections_busy_timeout(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        busy_timeout = await connection.exec_driver_sql("PRAGMA busy_timeout")

        assert busy_timeout.scalar_one() == 5000


async def test_row_counts_inserted_ids_and_returned_rows_are_read_off_the_statement(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        many = await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        updated = await connection.execute(text("UPDATE item SET name = name || '!'"))
        returned = await connection.execute(
            text("DELETE FROM item WHERE name != 'a!' RETURNING name")
        )

        assert inserted.lastrowid == 1
        assert many.rowcount == 2
        assert updated.rowcount == 3
        assert sorted(returned.scalars()) == ["b!", "c!"]


async def test_errors_are_sqlalchemys_and_leave_the_transaction_usable(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        savepoint = await connection.begin_nested()
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        await savepoint.rollback()
        await connection.execute(text("INSERT INTO item (name) VALUES ('b')"))

    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM item ORDER BY id"))).scalars()
        assert list(names) == ["a", "b"]


async def test_streamed_results_begin_the_transaction_too(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(5)]
        )
    async with engine.connect() as connection:
        streamed = await connection.stream(text("SELECT name FROM item ORDER BY id"))
        assert [row.name async for row in streamed] == [f"n{i}" for i in range(5)]
        assert not lock_is_free(engine)
        await connection.rollback()


@pytest.mark.parametrize("build", [create_engine, worker_engine], ids=["bot", "worker"])
async def test_an_engine_runs_sqlite_on_the_callers_thread_and_starts_none(
    tmp_path: Path, build: Callable[[str], AsyncEngine]
) -> None:
    engine = build(sqlite_url(tmp_path))
    threads_before = threading.active_count()
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            driver = raw.driver_connection._conn
            driver.create_function("thread_id", 0, threading.get_ident)
            ran_on = (await connection.execute(text("SELECT thread_id()"))).scalar_one()

        assert ran_on == threading.get_ident()
        assert threading.active_count() == threads_before
    finally:
        await engine.dispose()
    assert lock_is_free(engine)
