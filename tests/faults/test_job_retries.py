"""A metadata lookup that fails is recorded as failed, kept for a retry, and the retry succeeds.

The games database (a local fake RAWG) answers 500 to the first search. Real `questrya worker`
processes run the job. Production retries wait 10 s, 1 min and 5 min and no setting shortens
them, so the test moves the scheduled retry onto its queue with rq's own registry API instead of
waiting: what is under test is that the failure is kept and the retry is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus

from questrya.common.jobs import METADATA_QUEUE
from questrya.workers.queues import RETRY_ATTEMPTS, RETRY_INTERVALS_SECONDS
from tests.fakes_servers.rawg import FakeRawg
from tests.faults.conftest import (
    HADES_FACTS_LINE,
    HADES_JOB_ID,
    add_game_in_console,
    assert_told_once,
    inbox_ids,
    query,
    rawg_settings,
    retries_of,
    run_burst_worker,
    searches,
)

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


def assert_failure_recorded_and_retry_scheduled(connection: redis.Redis) -> None:
    job = Job.fetch(HADES_JOB_ID, connection=connection)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == RETRY_ATTEMPTS - 1
    retries = retries_of(METADATA_QUEUE, connection)
    assert retries.get_job_ids() == [HADES_JOB_ID]
    wait = retries.get_scheduled_time(HADES_JOB_ID) - datetime.now(UTC)
    assert timedelta(0) < wait <= timedelta(seconds=RETRY_INTERVALS_SECONDS[0])


async def test_a_failed_lookup_is_retried_and_tells_the_player_once(
    tmp_path: Path, redis_url: str, redis_connection: redis.Redis, fake_rawg: FakeRawg
) -> None:
    await add_game_in_console(tmp_path, redis_url, "Hades")
    fake_rawg.answer_next(1, 500)

    worker_log = await run_burst_worker(tmp_path, redis_url, **rawg_settings(fake_rawg))

    # rq keeps no result for a failure it will retry: the worker's log is the operator's record.
    assert "ProviderError: rawg: GET" in worker_log
    assert "answered 500" in worker_log
    assert searches(fake_rawg) == 1
    assert_failure_recorded_and_retry_scheduled(redis_connection)
    assert query(tmp_path, "SELECT lookup_state FROM games") == [("pending",)]
    assert query(tmp_path, "SELECT count(*) FROM notifications") == [(0,)]
    assert inbox_ids(redis_connection) == []

    # Stands in for waiting out the 10 s retry interval (see the module docstring).
    retries_of(METADATA_QUEUE, redis_connection).requeue(HADES_JOB_ID)
    await run_burst_worker(tmp_path, redis_url, **rawg_settings(fake_rawg))

    assert searches(fake_rawg) == 2
    assert Job.fetch(HADES_JOB_ID, connection=redis_connection).get_status() == JobStatus.FINISHED
    assert_told_once(tmp_path, redis_connection, first_line=HADES_FACTS_LINE)
