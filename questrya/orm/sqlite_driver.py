"""aiosqlite on the event loop's thread, one call per statement, waiting for locks without
blocking the loop.

aiosqlite runs each call on the connection's own thread; a call there and back wakes two threads
(about 90 µs on this machine, far more than SQLite takes to find a row), and SQLAlchemy's adapter
makes four calls per statement (open a cursor, execute, fetch the rows, close the cursor) and one
more for BEGIN. Here each statement is one call, run at once on the event loop's thread (see
InlineConnection): bench_discord run with the thread and then without it measured 215.6 and
339.2 interactions/s.

A statement on the loop's thread blocks the loop for as long as SQLite works on it: microseconds
for the rows a command touches, since the database is local. Waiting for another process's write
lock would block it for as long as that process holds the lock, so SQLite's own wait (its busy
timeout) is kept off BEGIN IMMEDIATE, the one statement that waits for it: a transaction's BEGIN
is tried at once, and tried again after a sleep on the loop while the lock is taken, for as long
as the connection's busy timeout allows.

Built on SQLAlchemy 2.1's aiosqlite adapter classes and aiosqlite's queue of calls (`_execute`,
`_tx`), which is why pyproject.toml holds both to their current minor series.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)
from sqlalchemy.util.concurrency import await_

if TYPE_CHECKING:
    from sqlalchemy.connectors.asyncio import AsyncIODBAPIConnection

BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
# The sleeps between tries of a BEGIN while another process holds the write lock: short at first,
# since most transactions here take milliseconds, and never long, so a freed lock is taken soon.
FIRST_LOCK_RETRY_SECONDS = 0.001
LAST_LOCK_RETRY_SECONDS = 0.025


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What SQLAlchemy reads off a cursor once its statement has run, besides the rows."""

    description: Any
    rowcount: int
    lastrowid: int | None


def _run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[_Outcome, list[Any]]:
    """The statement, run to its end, in one call."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return _Outcome(description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds a finished statement's rows; no aiosqlite cursor stays open."""

    __slots__ = ("_outcome",)
    _awaitable_cursor_close = False
    arraysize = 1
    _adapt_connection: OneTripConnection

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        # Not the parent's __init__: that opens an aiosqlite cursor, a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._outcome = _Outcome(None, -1, None)

    @property
    def description(self) -> Any:
        return self._outcome.description

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount

    @property
    def lastrowid(self) -> int:
        return self._outcome.lastrowid  # type: ignore[return-value]

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            await self._adapt_connection.send_pending_begin()
            driver = self._connection
            self._outcome, rows = await driver._execute(
                _run_statement, driver._conn, operation, parameters, many
            )
            self._rows = collections.deque(rows)


class OneTripServerSideCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """Streams rows as aiosqlite does; only sends a pending BEGIN first."""

    __slots__ = ()
    _adapt_connection: OneTripConnection

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._adapt_connection.send_pending_begin()
        return await super()._execute_async(operation, parameters)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """The adapted connection; remembers a BEGIN to send with the next statement."""

    __slots__ = ("_pending_begin",)
    _cursor_cls = OneTripCursor  # type: ignore[assignment]
    _ss_cursor_cls = OneTripServerSideCursor

    def __init__(self, dbapi: Any, connection: AsyncIODBAPIConnection) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None

    def begin_with_next_statement(self, begin: str) -> None:
        """Open the transaction with `begin` just before its first statement, if it has one."""
        self._pending_begin = begin

    def take_pending_begin(self) -> str | None:
        begin, self._pending_begin = self._pending_begin, None
        return begin

    async def send_pending_begin(self) -> None:
        """The transaction's BEGIN, if it is due: waits for the write lock without blocking
        the event loop, up to the connection's busy timeout."""
        begin = self.take_pending_begin()
        if begin is not None:
            await begin_when_unlocked(self._connection._conn, begin)

    def commit(self) -> None:
        if self._transaction_open():
            super().commit()

    def rollback(self) -> None:
        if self._transaction_open():
            super().rollback()

    def _transaction_open(self) -> bool:
        """Whether SQLite has a transaction to end. A transaction that ran no statement never
        began; the pool's rollback of every returned connection mostly finds none. Neither
        is worth a call."""
        if self.take_pending_begin() is not None:
            return False
        # SQLite's own flag (sqlite3_get_autocommit).
        driver = self._connection._connection
        return driver is not None and driver.in_transaction


class _CallsRunAtOnce:
    """In place of aiosqlite's queue of calls for its thread: each call runs as it is put."""

    def put_nowait(self, call: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = call
        try:
            result = function()
        except Exception as error:  # as aiosqlite's thread does: the awaiting caller gets it
            if future is not None:
                future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection without a thread: SQLite runs on the event loop's thread.

    A thread of its own costs every statement a hand-over between threads and each work horse a
    thread start. SQLAlchemy gives a connection to one session at a time, so the thread never
    runs two statements at once either: it buys a process nothing but the loop's freedom while
    SQLite waits for a lock, which begin_when_unlocked gives back.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _CallsRunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Any:
        # aiosqlite's starts the thread here; the connector runs at once instead.
        return self._connect().__await__()


def connect_inline(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """aiosqlite.connect's twin for an InlineConnection."""
    # The pool may hand the connection to another thread later (one at a time, never at once).
    kwargs["check_same_thread"] = False
    return InlineConnection(functools.partial(sqlite3.connect, database, **kwargs), iter_chunk_size)


async def begin_when_unlocked(connection: sqlite3.Connection, begin: str) -> None:
    """`begin`, tried again after a sleep on the event loop for as long as another connection
    holds the lock, up to the connection's busy timeout; then SQLite's "database is locked"."""
    (busy_timeout_ms,) = connection.execute("PRAGMA busy_timeout").fetchone()
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = FIRST_LOCK_RETRY_SECONDS
    while True:
        try:
            _begin_without_waiting(connection, begin, busy_timeout_ms)
            return
        except sqlite3.OperationalError as error:
            if not _is_locked(error) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, LAST_LOCK_RETRY_SECONDS)


def _begin_without_waiting(
    connection: sqlite3.Connection, begin: str, busy_timeout_ms: int
) -> None:
    # Only BEGIN goes without SQLite's wait: a statement inside the transaction rarely waits
    # at all (the lock is held), and when it does, it must wait rather than fail.
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute(begin)
    finally:
        connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def _is_locked(error: sqlite3.OperationalError) -> bool:
    # The primary result code, whatever the extended one (SQLITE_BUSY_RECOVERY, ...).
    return error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


class OneTripAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect takes as `module=`: its connections
    are InlineConnections."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = connect_inline(*arg, **kw)
        return OneTripConnection(self, cast("AsyncIODBAPIConnection", await_(connection)))
