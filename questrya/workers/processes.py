"""Running the worker and the scheduler: in this process, or as children of `questrya up`."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis
from rq import Worker
from rq_scheduler import Scheduler
from sqlalchemy.orm import configure_mappers

from questrya.common.jobs import ALL_QUEUES
from questrya.metadata.providers.offline import catalog_titles
from questrya.notifications.senders.factory import preload_senders
from questrya.settings import Settings
from questrya.workers.children import Children
from questrya.workers.queues import connect
from questrya.workers.rehearsal import rehearse_jobs
from questrya.workers.runtime import worker_engine, worker_settings
from questrya.workers.schedules import register_schedules

MAINTENANCE_SECONDS = 60
SCHEDULER_INTERVAL_SECONDS = 10
RECONNECT_SECONDS = 5  # between the scheduler's tries to reach Redis again
JOB_MODULES = (
    "questrya.workers.tasks.groups",
    "questrya.workers.tasks.metadata",
    "questrya.workers.tasks.notifications",
    "questrya.workers.tasks.scores",
    "questrya.workers.tasks.outbox",
    "questrya.workers.tasks.releases",
)

log = logging.getLogger(__name__)


def run_worker(redis_url: str, queues: Sequence[str] = ALL_QUEUES, *, burst: bool = False) -> None:
    """RQ's forking worker, with its scheduler on so retries with intervals fire.

    The job modules and the offline catalog are loaded here, once, so every forked work horse
    inherits them instead of importing them again for each job. Maintenance (finding jobs of
    crashed work horses) runs every minute rather than RQ's default ten.
    """
    preload_jobs()
    worker = Worker(
        list(queues), connection=connect(redis_url), maintenance_interval=MAINTENANCE_SECONDS
    )
    worker.work(with_scheduler=True, burst=burst)


def preload_jobs() -> None:
    """What every job needs, made once so that the forked work horses inherit it."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    catalog_titles()
    settings = worker_settings()
    preload_senders(settings)
    configure_mappers()  # else each work horse configures the ORM mappers on its first query
    asyncio.run(rehearse_jobs(worker_engine(settings.effective_database_url)))


def run_scheduler(redis_url: str, settings: Settings, *, burst: bool = False) -> None:
    """Register the recurring jobs, then move due jobs onto their queues until stopped.

    rq-scheduler's loop ends when it loses Redis; it is started again (registering anew) once
    Redis answers, so the outbox relay, the way back from an outage, goes on being scheduled.
    """
    connection = connect(redis_url)
    while True:
        scheduler = Scheduler(connection=connection, interval=SCHEDULER_INTERVAL_SECONDS)
        try:
            register_schedules(scheduler, nightly_at=settings.nightly_refresh_time)
            scheduler.run(burst=burst)
            return
        except (redis.ConnectionError, redis.TimeoutError) as error:
            log.warning("Redis unreachable (%s); trying in %d s", error, RECONNECT_SECONDS)
            # rq-scheduler's signal handlers need Redis to stop; while it is away, stop plainly.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            time.sleep(RECONNECT_SECONDS)


@contextlib.contextmanager
def background_services(
    redis_url: str, log_dir: Path, commands: Sequence[str] = ("worker", "scheduler")
) -> Iterator[None]:
    """`questrya COMMAND` for each of `commands` as a child process, restarted if it dies and
    stopped gracefully on exit; each logs to its own file in `log_dir`."""
    children = Children(commands, {**os.environ, "QUESTRYA_REDIS_URL": redis_url}, log_dir)
    try:
        yield
    finally:
        children.stop()


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM, then return so the children are stopped cleanly."""
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    # Blocked first, so the signal waits for sigwait instead of killing the process outright.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    signal.sigwait(stop_signals)
