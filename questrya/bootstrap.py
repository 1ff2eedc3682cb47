"""Wiring: settings in, a running application's parts out (database, queue, unit of work).

Every entry point (console, bots, worker, scheduler) starts here, so each one upgrades the
database and finds Redis the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis

from questrya.notifications.schemas import InboxMessage
from questrya.notifications.senders.console import ConsoleInbox, InboxUnavailable
from questrya.orm.database import create_engine, create_session_factory, upgrade_database
from questrya.settings import Settings
from questrya.unit_of_work import SqlUnitOfWork, UnitOfWork
from questrya.workers import monitor
from questrya.workers.queues import RqJobQueue, connect
from questrya.workers.redis_server import EmbeddedRedis


@dataclass(frozen=True)
class App:
    """The parts every entry point needs."""

    settings: Settings
    redis_url: str
    uow_factory: Callable[[], UnitOfWork]
    connection: redis.Redis
    console_inbox: ConsoleInbox
    job_queue: RqJobQueue

    async def take_console_messages(self, chat_id: str) -> list[InboxMessage] | None:
        """Messages workers pushed to a console chat, oldest first (each returned once);
        None while Redis cannot be reached (they wait there)."""
        try:
            return await self.console_inbox.take(chat_id)
        except InboxUnavailable:
            return None

    async def wait_for_background_work(self, *, expect_worker: bool) -> bool:
        """Wait (bounded by settings) for the jobs this process queued and the work they queued
        in turn; False if they did not finish in time or no worker is there to run them."""
        caused = list(self.job_queue.queued_ids)
        if not caused:
            return True
        try:
            async with asyncio.timeout(self.settings.console_wait_seconds):
                if expect_worker:
                    await monitor.wait_for_workers(self.connection)
                if not monitor.has_workers(self.connection):
                    return False
                await monitor.wait_until_settled(self.connection, caused)
                await monitor.wait_until_idle(self.connection)
        except (TimeoutError, redis.ConnectionError):
            return False
        return True


@contextlib.contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """The configured Redis URL, or a private redis-server in the data dir while in use."""
    if settings.redis_url:
        yield settings.redis_url
        return
    with EmbeddedRedis(settings.data_dir) as url:
        yield url


@contextlib.asynccontextmanager
async def open_app(settings: Settings, redis_url: str) -> AsyncIterator[App]:
    """Upgrade the database and connect to it and to Redis; dispose of both on exit."""
    database_url = settings.effective_database_url
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    connection = connect(redis_url)
    async_connection = aioredis.Redis.from_url(redis_url)
    job_queue = RqJobQueue(connection)
    sessions = create_session_factory(engine)
    try:
        yield App(
            settings=settings,
            redis_url=redis_url,
            uow_factory=lambda: SqlUnitOfWork(sessions, job_queue),
            connection=connection,
            console_inbox=ConsoleInbox(async_connection),
            job_queue=job_queue,
        )
    finally:
        await async_connection.aclose()
        connection.close()
        await engine.dispose()
