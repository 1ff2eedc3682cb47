"""The children of `questrya up`: a child that dies is started again; stop() stops them all."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from questrya.workers.children import Children
from tests.e2e.conftest import clean_environment

PATIENCE_SECONDS = 30


def eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"  # a zombie has exited


def test_a_child_that_dies_is_started_again_and_stop_ends_them(
    tmp_path: Path, redis_url: str
) -> None:
    environment = clean_environment(tmp_path, QUESTRYA_REDIS_URL=redis_url)
    started = Children(["worker", "scheduler"], environment, tmp_path)
    try:
        first = started.pids
        os.kill(first["worker"], signal.SIGKILL)
        eventually(lambda: started.pids["worker"] != first["worker"])
        assert started.pids["scheduler"] == first["scheduler"]
        assert is_running(started.pids["worker"])
    finally:
        started.stop()
    assert not any(is_running(pid) for pid in started.pids.values())
