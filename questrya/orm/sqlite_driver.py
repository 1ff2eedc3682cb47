"""aiosqlite with one trip to its thread per statement.

aiosqlite runs each call on the connection's own thread; a trip there and back wakes two threads
(about 90 µs on this machine, far more than SQLite takes to find a row). SQLAlchemy's adapter
makes four trips per statement (open a cursor, execute, fetch the rows, close the cursor) and one
more for BEGIN: most of a command's database time. This adapter does a statement's steps in one
trip, and sends BEGIN IMMEDIATE along with the transaction's first statement.

A process that runs one job at a time (an RQ worker and its work horses) can go further and make
no trips at all: `inline=True` runs each call on the event loop's own thread (see InlineConnection).

Built on SQLAlchemy 2.1's aiosqlite adapter classes and aiosqlite's queue of calls (`_execute`),
which is why pyproject.toml holds both to their current minor series.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import sqlite3
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


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What SQLAlchemy reads off a cursor once its statement has run, besides the rows."""

    description: Any
    rowcount: int
    lastrowid: int | None


def _run_statement(
    connection: sqlite3.Connection,
    begin: str | None,
    operation: str,
    parameters: Any,
    many: bool,
) -> tuple[_Outcome, list[Any]]:
    """On aiosqlite's thread: the transaction's BEGIN if due, then the statement, to the end."""
    if begin is not None:
        connection.execute(begin)
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
            begin = self._adapt_connection.take_pending_begin()
            driver = self._connection
            self._outcome, rows = await driver._execute(
                _run_statement, driver._conn, begin, operation, parameters, many
            )
            self._rows = collections.deque(rows)


class OneTripServerSideCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """Streams rows as aiosqlite does; only sends a pending BEGIN first."""

    __slots__ = ()
    _adapt_connection: OneTripConnection

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        begin = self._adapt_connection.take_pending_begin()
        if begin is not None:
            await self._connection.execute(begin)
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
        """Open the transaction with `begin`, in the same trip as its first statement."""
        self._pending_begin = begin

    def take_pending_begin(self) -> str | None:
        begin, self._pending_begin = self._pending_begin, None
        return begin

    def commit(self) -> None:
        if self._transaction_open():
            super().commit()

    def rollback(self) -> None:
        if self._transaction_open():
            super().rollback()

    def _transaction_open(self) -> bool:
        """Whether SQLite has a transaction to end. A transaction that ran no statement never
        began; the pool's rollback of every returned connection mostly finds none. Neither
        is worth a trip."""
        if self.take_pending_begin() is not None:
            return False
        # Read from this thread while aiosqlite's is idle: SQLAlchemy runs one call at a time
        # on a connection, and this flag is SQLite's own (sqlite3_get_autocommit).
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

    A work horse runs one job, one statement at a time, and has nothing else for its event loop
    to do meanwhile; a thread of its own costs each horse a thread start and every statement a
    hand-over between threads, and buys it nothing. The loop is blocked while SQLite works,
    which is why the bots, serving many chats at once, keep aiosqlite's thread.
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


class OneTripAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect takes as `module=`; with `inline`, its
    connections are InlineConnections."""

    def __init__(self, *, inline: bool = False) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.inline = inline

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        if self.inline:
            connection = connect_inline(*arg, **kw)
        else:
            connection = self.aiosqlite.connect(*arg, **kw)
            # As SQLAlchemy's adapter does: a forgotten connection must not keep the process up.
            connection._thread.daemon = True
        return OneTripConnection(self, cast("AsyncIODBAPIConnection", await_(connection)))
