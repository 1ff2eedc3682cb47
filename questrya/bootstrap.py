"""Wiring: settings in, a running application's parts out (database, queue, unit of work).

Every entry point (console, bots, worker, scheduler) starts here, so each one upgrades the
database and finds Redis the same way.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

from questrya.orm.database import create_engine, create_session_factory, upgrade_database
from questrya.settings import Settings
from questrya.unit_of_work import SqlUnitOfWork, UnitOfWork
from questrya.workers.queues import RqJobQueue, connect
from questrya.workers.redis_server import EmbeddedRedis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class App:
    """The parts every entry point needs."""

    settings: Settings
    redis_url: str
    uow_factory: Callable[[], UnitOfWork]


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
    job_queue = RqJobQueue(connect(redis_url))
    session_factory = create_session_factory(engine)
    try:
        yield App(settings, redis_url, lambda: SqlUnitOfWork(session_factory, job_queue))
    finally:
        await engine.dispose()
