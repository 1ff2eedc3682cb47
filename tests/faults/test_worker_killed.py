"""A worker killed with SIGKILL mid-job: its job is found abandoned, retried, and told once.

The fake RAWG hangs on the first search, so the job is certainly mid-flight when the worker
(with its scheduler child) and its work horse are killed, as when a machine or container dies.
rq notices an abandoned job only once the dead worker's heartbeat expires (90 s after the last
one with rq's defaults); the test runs rq's own clean-up as of that moment instead of waiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.job import Job, JobStatus
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from questrya.common.jobs import METADATA_QUEUE
from questrya.workers.queues import RETRY_ATTEMPTS
from tests.fakes_servers.rawg import FakeRawg
from tests.faults.conftest import (
    HADES_FACTS_LINE,
    HADES_JOB_ID,
    add_game_in_console,
    assert_told_once,
    kill_session,
    live_processes,
    query,
    rawg_settings,
    retries_of,
    run_burst_worker,
    searches,
    start_worker,
    wait_until,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the horse in /proc"),
]

WORKER_START_SECONDS = 30


def work_horse_of(worker_pid: int) -> int:
    """The worker's forked work horse: the child that leads its own process group.

    rq 3.0 keeps the horse's pid only in the worker's memory; the horse calls setpgrp(),
    which tells it apart from the scheduler child, which stays in the worker's group.
    """
    horses = [
        pid
        for pid, status in live_processes().items()
        if status.parent == worker_pid and status.group == pid
    ]
    assert len(horses) == 1, f"children of worker {worker_pid} leading a group: {horses}"
    return horses[0]


def kill_worker_and_horse(worker: subprocess.Popen[bytes], horse_pid: int) -> None:
    # The worker first: alive, it would see its horse die and fail the job itself.
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its scheduler child
    os.killpg(horse_pid, signal.SIGKILL)
    worker.wait(timeout=10)


def expire_dead_heartbeat(connection: redis.Redis) -> None:
    """Run rq's clean-up of started jobs as of the moment the dead worker's heartbeat expires."""
    started = StartedJobRegistry(METADATA_QUEUE, connection=connection)
    started.cleanup()  # now: the heartbeat is still valid, so the job still counts as running
    assert Job.fetch(HADES_JOB_ID, connection=connection).get_status() == JobStatus.STARTED
    entries: list[tuple[bytes, float]] = connection.zrange(  # type: ignore[assignment]
        started.key, 0, -1, withscores=True
    )
    assert [entry.decode().partition(":")[0] for entry, _ in entries] == [HADES_JOB_ID]
    heartbeat_expiry = entries[0][1]
    started.cleanup(timestamp=heartbeat_expiry)


async def test_a_job_whose_worker_was_killed_runs_again_and_tells_the_player_once(
    tmp_path: Path, redis_url: str, redis_connection: redis.Redis, fake_rawg: FakeRawg
) -> None:
    await add_game_in_console(tmp_path, redis_url, "Hades")
    fake_rawg.hang_next(1)
    worker = start_worker(tmp_path, redis_url, **rawg_settings(fake_rawg))
    try:
        await wait_until(
            lambda: searches(fake_rawg) == 1,
            within=WORKER_START_SECONDS,
            waiting_for="the worker's first search to reach the fake RAWG",
        )
        [registered] = Worker.all(connection=redis_connection)
        assert registered.pid == worker.pid
        assert registered.get_current_job_id() == HADES_JOB_ID
        horse_pid = work_horse_of(worker.pid)
        kill_worker_and_horse(worker, horse_pid)
        await wait_until(
            lambda: horse_pid not in live_processes(), within=10, waiting_for="the horse to die"
        )
    finally:
        kill_session(worker.pid)  # on failure too: no stray process may outlive the test
        worker.wait()

    expire_dead_heartbeat(redis_connection)

    job = Job.fetch(HADES_JOB_ID, connection=redis_connection)
    assert job.get_status() == JobStatus.SCHEDULED  # abandoned, not failed: retries remain
    assert job.retries_left == RETRY_ATTEMPTS - 1
    assert query(tmp_path, "SELECT count(*) FROM notifications") == [(0,)]
    # The retry is due in 10 s, but a worker started within a minute of the crash finds the dead
    # scheduler's lock and starts no scheduler before its next maintenance pass (10 min in rq's
    # defaults); rq's registry API moves the retry onto its queue now instead.
    retries_of(METADATA_QUEUE, redis_connection).requeue(HADES_JOB_ID)
    await run_burst_worker(tmp_path, redis_url, **rawg_settings(fake_rawg))

    assert searches(fake_rawg) == 2  # the hung one, then the new worker's own
    assert Job.fetch(HADES_JOB_ID, connection=redis_connection).get_status() == JobStatus.FINISHED
    assert_told_once(tmp_path, redis_connection, first_line=HADES_FACTS_LINE)

    # Had the horse finished after all (only its heartbeat lost), the job would run twice.
    FinishedJobRegistry(METADATA_QUEUE, connection=redis_connection).requeue(HADES_JOB_ID)
    await run_burst_worker(tmp_path, redis_url, **rawg_settings(fake_rawg))
    assert Job.fetch(HADES_JOB_ID, connection=redis_connection).get_status() == JobStatus.FINISHED
    assert_told_once(tmp_path, redis_connection, first_line=HADES_FACTS_LINE)
