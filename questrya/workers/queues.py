"""The RQ queues Questrya uses, and the JobQueue that services enqueue through."""

from __future__ import annotations

import redis
from redis.driver_info import DriverInfo
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

# The queue names live with the JobQueue port so services can name a queue without importing
# workers; ALL_QUEUES is in priority order (a waiting player beats a nightly score refresh).
from questrya.common.jobs import (
    ALL_QUEUES,
    METADATA_QUEUE,
    NOTIFICATIONS_QUEUE,
    SCORES_QUEUE,
    JobQueueUnavailable,
    JobRequest,
)

__all__ = [
    "ALL_QUEUES",
    "METADATA_QUEUE",
    "NOTIFICATIONS_QUEUE",
    "SCORES_QUEUE",
    "RqJobQueue",
    "connect",
    "default_retry",
]

RETRY_ATTEMPTS = 3
_DRIVER_INFO = DriverInfo(lib_version=redis.__version__)
RETRY_INTERVALS_SECONDS = (10, 60, 300)


def connect(url: str) -> redis.Redis:
    """A Redis client for `url` (redis://, rediss:// or unix://); connects on first use.

    Told its own version, redis-py no longer reads it from the installed package metadata
    for every new connection: milliseconds, paid twice by each work horse (its connections are
    new after the fork). The pools the jobs derive from this one inherit the setting."""
    return redis.Redis.from_url(url, driver_info=_DRIVER_INFO)


def default_retry() -> Retry:
    """The retry policy every job gets: three more tries, 10 s, 1 min and 5 min apart."""
    return Retry(max=RETRY_ATTEMPTS, interval=list(RETRY_INTERVALS_SECONDS))


class RqJobQueue:
    """The JobQueue port on RQ: one Redis, one RQ queue per JobRequest.queue."""

    def __init__(self, connection: redis.Redis) -> None:
        self._connection = connection
        self.queued_ids: list[str] = []  # what this process asked for, for the console to await

    def enqueue(self, job: JobRequest) -> None:
        """Queue `job` once per job id; raise JobQueueUnavailable if Redis cannot be reached
        or refuses the job (out of memory, a read-only replica): it stays in the outbox."""
        queue = Queue(job.queue, connection=self._connection)
        try:
            queue.enqueue(
                job.function,
                *job.args,
                job_id=job.job_id,
                unique=True,
                retry=default_retry(),
            )
        except DuplicateJobError:
            pass  # a job with this id exists already: asking twice queues it once
        except redis.RedisError as error:
            raise JobQueueUnavailable(f"{job.job_id} not queued: {type(error).__name__}") from error
        self.queued_ids.append(job.job_id)
