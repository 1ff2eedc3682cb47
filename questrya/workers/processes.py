"""Running the worker and the scheduler: in this process, or as children of `questrya up`."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from rq import Worker
from rq_scheduler import Scheduler

from questrya.common.jobs import ALL_QUEUES
from questrya.settings import Settings
from questrya.workers.queues import connect
from questrya.workers.schedules import register_schedules

STOP_TIMEOUT_SECONDS = 15


def run_worker(redis_url: str, queues: Sequence[str] = ALL_QUEUES, *, burst: bool = False) -> None:
    """RQ's forking worker, with its scheduler on so retries with intervals fire."""
    worker = Worker(list(queues), connection=connect(redis_url))
    worker.work(with_scheduler=True, burst=burst)


def run_scheduler(redis_url: str, settings: Settings, *, burst: bool = False) -> None:
    """Register the recurring jobs, then move due jobs onto their queues until stopped."""
    scheduler = Scheduler(connection=connect(redis_url), interval=10)
    register_schedules(scheduler, nightly_at=settings.nightly_refresh_time)
    scheduler.run(burst=burst)


@contextlib.contextmanager
def background_services(redis_url: str, log_dir: Path) -> Iterator[None]:
    """A worker and the scheduler as child processes, stopped (gracefully) on exit."""
    environment = {**os.environ, "QUESTRYA_REDIS_URL": redis_url}
    children = [
        _spawn(["worker"], environment, log_dir),
        _spawn(["scheduler"], environment, log_dir),
    ]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            _wait_or_kill(child)


def _spawn(
    arguments: list[str], environment: dict[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{arguments[0]}.log").open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own command, no shell
            [sys.executable, "-m", "questrya.cli", *arguments],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait_or_kill(child: subprocess.Popen[bytes]) -> None:
    try:
        child.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
