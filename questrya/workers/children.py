"""The child processes of `questrya up`: a worker, the scheduler, the bots. One that dies on its
own (Redis vanished mid-job, a crash) is started again, with a growing pause if it keeps dying,
so one machine keeps working without an operator watching it."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

WATCH_SECONDS = 1.0
FIRST_PAUSE_SECONDS = 2.0
LONGEST_PAUSE_SECONDS = 300.0
STOP_TIMEOUT_SECONDS = 15

log = logging.getLogger(__name__)


@dataclass
class Child:
    """One `questrya COMMAND` process and when it may next be started again."""

    command: str
    process: subprocess.Popen[bytes]
    pause: float = FIRST_PAUSE_SECONDS
    restart_at: float | None = field(default=None)


class Children:
    """Starts the commands, restarts any that exit, and stops them all on `stop()`."""

    def __init__(self, commands: Sequence[str], environment: dict[str, str], log_dir: Path):
        self._environment = environment
        self._log_dir = log_dir
        self._children = [Child(command, self._spawn(command)) for command in commands]
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="questrya-children", daemon=True)
        self._watcher.start()

    @property
    def pids(self) -> dict[str, int]:
        """Each command's current process id."""
        return {child.command: child.process.pid for child in self._children}

    def stop(self) -> None:
        """Stop watching, then ask every child to stop; kill those that do not in time."""
        self._stopping.set()
        self._watcher.join()
        for child in self._children:
            child.process.terminate()
        for child in self._children:
            _wait_or_kill(child.process)

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            for child in self._children:
                self._look_after(child, now=time.monotonic())

    def _look_after(self, child: Child, *, now: float) -> None:
        code = child.process.poll()
        if code is None:
            return
        if child.restart_at is None:
            log.warning(
                "questrya %s exited (%s); restarting in %.0f s", child.command, code, child.pause
            )
            child.restart_at = now + child.pause
        elif now >= child.restart_at:
            child.process = self._spawn(child.command)
            child.restart_at = None
            child.pause = min(child.pause * 2, LONGEST_PAUSE_SECONDS)

    def _spawn(self, command: str) -> subprocess.Popen[bytes]:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        with (self._log_dir / f"{command}.log").open("ab") as output:
            return subprocess.Popen(  # noqa: S603 - our own command, no shell
                [sys.executable, "-m", "questrya.cli", command],
                env=self._environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )


def _wait_or_kill(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
