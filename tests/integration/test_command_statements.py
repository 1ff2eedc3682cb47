"""The statements /add and /done send, on both databases: their hot path does only the work the
command needs (the service benchmark's floor does the same)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bots.chat import ChatRouter, build_router
from bots.messages import Speaker
from questrya.unit_of_work import SqlUnitOfWork
from tests.integration.conftest import RecordingJobQueue

ADA = Speaker("console", "ada", "Ada", "console:ada")


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent to the database in the block, in upper case."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(str(args[2]).upper())

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def title_lookups(statements: list[str]) -> list[str]:
    """The SELECTs of games by their title."""
    return [
        sql
        for sql in statements
        if sql.startswith("SELECT") and re.search(r"GAMES\.TITLE_FOLDED (=|IN)", sql)
    ]


def a_router(
    session_factory: async_sessionmaker[AsyncSession], job_queue: RecordingJobQueue
) -> ChatRouter:
    return build_router(lambda: SqlUnitOfWork(session_factory, job_queue))


async def test_add_stores_a_new_game_without_a_savepoint_and_refuses_a_duplicate(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    job_queue: RecordingJobQueue,
) -> None:
    router = a_router(session_factory, job_queue)
    await router.handle_text(ADA, "/help")  # Ada's account on record

    with statements_sent(engine) as statements:
        added = await router.handle_text(ADA, "/add Hades")
        again = await router.handle_text(ADA, "/add HADES")

    assert added.text.startswith("Added Hades"), added.text
    assert "already" in again.text, again.text
    assert not [sql for sql in statements if "SAVEPOINT" in sql], statements


async def test_done_with_a_trailing_number_looks_both_titles_up_in_one_query(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    job_queue: RecordingJobQueue,
) -> None:
    router = a_router(session_factory, job_queue)
    await router.handle_text(ADA, "/add Hades")
    await router.handle_text(ADA, "/add Portal 2")

    with statements_sent(engine) as rated:
        hades = await router.handle_text(ADA, "/done Hades 9")
    with statements_sent(engine) as titled:
        portal = await router.handle_text(ADA, "/done Portal 2")

    assert hades.text.startswith("Completed Hades · 9/10."), hades.text
    assert portal.text.startswith("Completed Portal 2. "), portal.text
    assert len(title_lookups(rated)) == 1, rated
    assert len(title_lookups(titled)) == 1, titled
