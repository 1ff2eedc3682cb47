"""Watching the queues from outside, against a real redis-server: when is the work done?"""

from __future__ import annotations

import pytest
import redis
from rq import Queue

from questrya.common.jobs import NOTIFICATIONS_QUEUE
from questrya.workers import monitor


def test_a_job_popped_but_not_yet_started_is_in_no_queue_or_registry(
    redis_connection: redis.Redis,
) -> None:
    """Why one reading is not enough: a worker listening to several queues pops the id (one
    BLPOP over all of them) before it registers the job as started."""
    queue = Queue(NOTIFICATIONS_QUEUE, connection=redis_connection)
    queue.enqueue("questrya.workers.queues.connect", "redis://unused", job_id="push-1")
    assert not monitor.is_idle(redis_connection)

    redis_connection.lpop(queue.key)  # as RQ's dequeue_any does with several queue keys

    assert monitor.is_idle(redis_connection)


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor, "POLL_SECONDS", 0)


async def test_idle_is_believed_only_when_read_twice_in_a_row(
    redis_connection: redis.Redis, monkeypatch: pytest.MonkeyPatch, no_pause: None
) -> None:
    answers = [True, False, True, True]  # read once more than there are: IndexError
    monkeypatch.setattr(monitor, "is_idle", lambda connection: answers.pop(0))

    await monitor.wait_until_idle(redis_connection)

    assert answers == []


async def test_settled_jobs_are_believed_at_the_first_reading(
    redis_connection: redis.Redis, monkeypatch: pytest.MonkeyPatch, no_pause: None
) -> None:
    answers = [False, True]
    monkeypatch.setattr(monitor, "are_settled", lambda connection, job_ids: answers.pop(0))

    await monitor.wait_until_settled(redis_connection, ["push-1"])

    assert answers == []
