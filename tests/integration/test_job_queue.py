"""RqJobQueue against a real redis-server: right queue, right id, once, with retries."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job

from questrya.common.jobs import JobQueueUnavailable, JobRequest
from questrya.workers.queues import METADATA_QUEUE, NOTIFICATIONS_QUEUE, RqJobQueue, connect

FETCH_METADATA = JobRequest(
    function="questrya.workers.queues.connect",
    job_id="fetch-metadata-game-42",
    queue=METADATA_QUEUE,
    args=(42, "Hades"),
)


def test_enqueues_on_the_named_queue_with_the_given_id(redis_connection: redis.Redis) -> None:
    RqJobQueue(redis_connection).enqueue(FETCH_METADATA)

    assert Queue(METADATA_QUEUE, connection=redis_connection).job_ids == ["fetch-metadata-game-42"]
    assert Queue(NOTIFICATIONS_QUEUE, connection=redis_connection).count == 0
    job = Job.fetch("fetch-metadata-game-42", connection=redis_connection)
    assert job.func_name == "questrya.workers.queues.connect"
    assert tuple(job.args) == (42, "Hades")


def test_enqueueing_the_same_id_twice_queues_one_job(redis_connection: redis.Redis) -> None:
    job_queue = RqJobQueue(redis_connection)

    job_queue.enqueue(FETCH_METADATA)
    job_queue.enqueue(FETCH_METADATA)

    assert Queue(METADATA_QUEUE, connection=redis_connection).job_ids == ["fetch-metadata-game-42"]


def test_every_job_retries_three_times_with_growing_intervals(
    redis_connection: redis.Redis,
) -> None:
    RqJobQueue(redis_connection).enqueue(FETCH_METADATA)

    job = Job.fetch("fetch-metadata-game-42", connection=redis_connection)
    assert job.retries_left == 3
    assert job.retry_intervals == [10, 60, 300]


def test_unreachable_redis_raises_job_queue_unavailable(tmp_path: Path) -> None:
    job_queue = RqJobQueue(connect(f"unix://{tmp_path}/no-such.sock"))

    with pytest.raises(JobQueueUnavailable):
        job_queue.enqueue(FETCH_METADATA)
