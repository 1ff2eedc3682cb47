"""The worker's rehearsal: a horse forked after it compiles no statement, and it leaves nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine

from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.metadata import service as metadata_service
from questrya.metadata.providers.offline import OfflineCatalog, catalog_titles
from questrya.notifications import service as notification_service
from questrya.notifications.domain import Notification
from questrya.orm.database import create_engine, create_session_factory
from questrya.orm.models import Base
from questrya.unit_of_work import SqlUnitOfWork, UnitOfWork
from questrya.users import service as user_service
from questrya.workers.rehearsal import rehearse_jobs
from tests.integration.conftest import RecordingJobQueue

CHAT = ChatAddress("console", "ada-chat")


class AcceptingSender:
    platform = CHAT.platform

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification.text)

    async def aclose(self) -> None:
        pass


@contextmanager
def compiled_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL of every statement the engine had to compile (not found in its cache)."""
    compiled: list[str] = []

    def note_misses(*args: Any) -> None:
        statement, context = args[2], args[4]
        if context.cache_hit is CacheStats.CACHE_MISS:
            compiled.append(statement)

    event.listen(engine.sync_engine, "after_cursor_execute", note_misses)
    try:
        yield compiled
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", note_misses)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table.name: await connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


async def look_up_and_deliver(engine: AsyncEngine, title: str) -> list[str]:
    """What the work horses do after an /add: the lookup job, then each delivery it queued."""
    job_queue = RecordingJobQueue()
    sessions = create_session_factory(engine)

    def uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(sessions, job_queue)

    player = await user_service.register(
        uow=uow_factory(), platform="console", external_id="ada", display_name="Ada"
    )
    added = await game_service.add_to_backlog(
        uow=uow_factory(), player_id=player.id, title=title, added_in=CHAT
    )
    sender = AcceptingSender()
    with compiled_statements(engine) as compiled:
        await metadata_service.fetch_for_game(
            uow_factory=uow_factory, provider=OfflineCatalog(), game_id=added.id
        )
        for job in job_queue.jobs:
            if job.function == notification_service.DELIVER_JOB:
                await notification_service.deliver(
                    uow=uow_factory(), notification_id=job.args[0], senders={"console": sender}
                )
    assert sender.sent, "the lookup queued no delivery"
    return compiled


async def test_after_the_rehearsal_a_lookup_and_its_delivery_compile_nothing(
    engine: AsyncEngine,
) -> None:
    await rehearse_jobs(engine)

    assert await look_up_and_deliver(engine, catalog_titles()[1]) == []


async def test_without_the_rehearsal_the_same_jobs_compile_their_statements(
    engine: AsyncEngine,
) -> None:
    assert await look_up_and_deliver(engine, catalog_titles()[1]) != []


async def test_the_rehearsal_leaves_no_row_and_no_connection_behind(engine: AsyncEngine) -> None:
    before = await row_counts(engine)

    await rehearse_jobs(engine)

    assert engine.pool.checkedout() == 0
    assert await row_counts(engine) == before


async def test_a_rehearsal_that_fails_is_logged_and_the_worker_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unmigrated = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")

    with caplog.at_level(logging.WARNING):
        await rehearse_jobs(unmigrated)

    assert "rehearsal skipped" in caplog.text
