"""What a job needs to run: settings, a database engine, the queue, a provider, the senders.

RQ's forking worker runs each job in a fresh child process, so everything here is built per job
and released at its end: no connection is ever shared across a fork.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import redis
import redis.asyncio as aioredis
from rq import get_current_job
from sqlalchemy.ext.asyncio import AsyncEngine

from questrya.metadata.providers.base import MetadataProvider
from questrya.metadata.providers.factory import build_provider
from questrya.notifications.senders.base import Sender
from questrya.notifications.senders.factory import build_senders
from questrya.orm.database import create_engine, create_session_factory
from questrya.settings import Settings, load_settings
from questrya.unit_of_work import SqlUnitOfWork, UnitOfWork
from questrya.workers.queues import RqJobQueue

Result = TypeVar("Result")


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    uow_factory: Callable[[], UnitOfWork]
    redis: aioredis.Redis
    provider: MetadataProvider
    senders: dict[str, Sender]


def run_job(work: Callable[[JobContext], Awaitable[Result]]) -> Result:
    """Run an async job body with a fresh context, from a synchronous RQ job function."""

    async def main() -> Result:
        async with job_context(worker_settings(), job_redis()) as context:
            return await work(context)

    return asyncio.run(main())


@functools.cache
def worker_settings() -> Settings:
    """The settings, read once per worker process: `questrya worker` reads them before it
    forks, so each work horse inherits them instead of parsing the environment again."""
    return load_settings()


def worker_engine(url: str) -> AsyncEngine:
    """One engine per process, built before the fork by `questrya worker`. It holds no
    connection then, so no connection is shared across a fork. A job run in the process that
    built the engine disposes of the connections it opened, since they belong to its own event
    loop; so does a forked work horse on PostgreSQL, while on SQLite it leaves them to the OS
    (see release_engine)."""
    return _engine_with_builder(url)[0]


@functools.cache
def _engine_with_builder(url: str) -> tuple[AsyncEngine, int]:
    return create_engine(url), os.getpid()


async def release_engine(url: str) -> None:
    """Close the connections jobs opened on this engine, except a forked work horse's SQLite
    connection."""
    engine, builder_pid = _engine_with_builder(url)
    if os.getpid() != builder_pid and engine.dialect.name == "sqlite":
        # A work horse forked by `questrya worker` exits with its job, and the OS closes its
        # connections. Closing the last connection to a SQLite database makes SQLite copy its
        # log into the database file, milliseconds that every job would pay whenever no bot
        # has the database open; the log is copied in batches as it grows instead. PostgreSQL
        # is told goodbye: a connection dropped unannounced is an error in the server's log.
        return
    await engine.dispose()


def job_redis() -> redis.Redis:
    """The worker's own connection: an operator's `rq worker --url` decides which Redis."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("no current job: run this inside an RQ worker")
    return job.connection


@contextlib.asynccontextmanager
async def job_context(settings: Settings, connection: redis.Redis) -> AsyncIterator[JobContext]:
    engine = worker_engine(settings.effective_database_url)
    async_redis = aioredis.Redis(connection_pool=_async_pool(connection))
    provider = build_provider(settings, async_redis)
    senders = build_senders(settings, async_redis)
    sessions = create_session_factory(engine)
    job_queue = RqJobQueue(connection)
    try:
        yield JobContext(
            settings=settings,
            uow_factory=lambda: SqlUnitOfWork(sessions, job_queue),
            redis=async_redis,
            provider=provider,
            senders=senders,
        )
    finally:
        for sender in senders.values():
            await sender.aclose()
        await provider.aclose()
        await async_redis.aclose()
        await release_engine(settings.effective_database_url)


def _async_pool(connection: redis.Redis) -> aioredis.ConnectionPool:
    """An asyncio pool to the same server as the worker's blocking connection."""
    kwargs = dict(connection.connection_pool.connection_kwargs)
    connection_class = connection.connection_pool.connection_class
    if issubclass(connection_class, redis.UnixDomainSocketConnection):
        return aioredis.ConnectionPool(
            connection_class=aioredis.UnixDomainSocketConnection, **kwargs
        )
    return aioredis.ConnectionPool(**kwargs)
