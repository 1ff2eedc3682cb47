"""Running `questrya` and `rq` as an operator would: subprocesses with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def clean_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The test process's environment without QUESTRYA_* settings, plus `settings`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QUESTRYA_")}
    return environment | {"QUESTRYA_DATA_DIR": str(data_dir), **settings}


def run_questrya(
    data_dir: Path, *arguments: str, stdin: str = "", timeout: float = 90, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`questrya ARGUMENTS` with `stdin`; fails the test on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-m", "questrya.cli", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_environment(data_dir, **settings),
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def rq_worker_burst(data_dir: Path, redis_url: str) -> subprocess.CompletedProcess[str]:
    """The operator's path: plain `rq worker --url URL metadata notifications scores --burst`."""
    rq = Path(sys.executable).with_name("rq")
    result = subprocess.run(
        [str(rq), "worker", "--url", redis_url, "metadata", "notifications", "scores", "--burst"],
        capture_output=True,
        text=True,
        env=clean_environment(data_dir),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result
