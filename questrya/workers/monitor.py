"""Watching the queues from outside: is a worker there, is the background work done?"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis
from rq import Queue, Worker
from rq.job import Job, JobStatus

from questrya.common.jobs import ALL_QUEUES

POLL_SECONDS = 0.2
# How many readings in a row, POLL_SECONDS apart, must find the queues idle. A worker that
# listens to several queues pops a job's id off its queue and only then registers it as
# started: for the moment in between (milliseconds) the job is in neither place, and a single
# reading taken then would call the queues idle while a delivery is about to run.
IDLE_READINGS = 2


def has_workers(connection: redis.Redis) -> bool:
    return bool(Worker.all(connection=connection))


def is_idle(connection: redis.Redis) -> bool:
    """No job waiting, running or waiting for a retry, on any of our queues."""
    for name in ALL_QUEUES:
        queue = Queue(name, connection=connection)
        if queue.count or queue.started_job_registry.count:
            return False
        if queue.scheduled_job_registry.count:
            return False
    return True


_SETTLED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED})


def are_settled(connection: redis.Redis, job_ids: list[str]) -> bool:
    """Every one of these jobs has finished, failed for good, or is gone."""
    jobs = Job.fetch_many(job_ids, connection=connection)
    return all(job is None or job.get_status(refresh=False) in _SETTLED for job in jobs)


async def wait_until_settled(connection: redis.Redis, job_ids: list[str]) -> None:
    """Return once all of `job_ids` are settled."""
    await _poll(lambda: are_settled(connection, job_ids))


async def wait_for_workers(connection: redis.Redis) -> None:
    """Return once at least one worker has registered."""
    await _poll(lambda: has_workers(connection))


async def wait_until_idle(connection: redis.Redis) -> None:
    """Return once the queues are empty and nothing runs, IDLE_READINGS times in a row."""
    await _poll(lambda: is_idle(connection), readings=IDLE_READINGS)


async def _poll(condition: Callable[[], bool], *, readings: int = 1) -> None:
    """Return once `condition` holds `readings` times in a row."""
    # Another process changes this state in Redis; there is no event to wait on, so poll.
    in_a_row = 0
    while True:
        in_a_row = in_a_row + 1 if await asyncio.to_thread(condition) else 0
        if in_a_row >= readings:
            return
        await asyncio.sleep(POLL_SECONDS)
