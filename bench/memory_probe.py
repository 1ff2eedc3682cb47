"""Reading processes' memory from /proc (Linux): a process tree sampled while it works, and the
peak RSS of a bare interpreter that only imports some modules. For bench_memory.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
ROLE_AFTER = "questrya.cli"
HORSE = "work horses (forked per job)"
RQ_SCHEDULER = "worker: RQ scheduler (forked)"
REDIS = "redis-server (private)"
ROLE_NAMES = {
    "up": "questrya up",
    "telegram": "bot: questrya telegram",
    "worker": "worker",
    "scheduler": "scheduler",
}
WORKER_LISTENING = "Listening on"


@dataclass
class SeenProcess:
    """One process of the tree: its role, its highest VmHWM seen, its RSS when ready."""

    pid: int
    role: str
    peak_kib: int = 0
    ready_kib: int | None = None


class ProcessTree:
    """The descendants of `root_pid` (and itself), sampled on demand."""

    def __init__(self, root_pid: int, *, worker_log: Path) -> None:
        self._root = root_pid
        self._worker_log = worker_log
        self._seen: dict[int, SeenProcess] = {}
        self.peak_total_pss_kib = 0
        self.ready_total_pss_kib = 0
        self._last_total = 0

    def sample(self) -> dict[int, dict[str, int]]:
        """Read every live process of the tree once; return their status figures by pid."""
        statuses = {pid: status for pid in _tree(self._root) if (status := _status(pid))}
        total = 0
        for pid, status in statuses.items():
            seen = self._seen.get(pid) or self._add(pid)
            if seen.role == RQ_SCHEDULER:
                seen.role = self._role(pid)  # a horse may not have called setpgrp yet
            seen.peak_kib = max(seen.peak_kib, status.get("VmHWM", 0))
            total += _pss_kib(pid)
        self.peak_total_pss_kib = max(self.peak_total_pss_kib, total)
        self._last_total = total
        return statuses

    def mark_ready(self) -> None:
        """Note each live process's RSS, and the tree's PSS, as its ready figure."""
        for pid, status in self.sample().items():
            if self._seen[pid].role != HORSE:  # one job's horse, not a process that stays
                self._seen[pid].ready_kib = status.get("VmRSS", 0)
        self.ready_total_pss_kib = self._last_total

    def worker_listening(self) -> bool:
        """Whether the worker has logged that it listens on its queues."""
        try:
            return WORKER_LISTENING in self._worker_log.read_text(errors="replace")
        except OSError:
            return False

    def seen(self, role: str) -> bool:
        return any(process.role == role for process in self._seen.values())

    def count(self, role: str | None = None) -> int:
        return sum(1 for process in self._seen.values() if role in (None, process.role))

    def peak_kib(self, role: str) -> int:
        return max((p.peak_kib for p in self._seen.values() if p.role == role), default=0)

    def ready_kib(self, role: str) -> int | None:
        ready = [p.ready_kib for p in self._seen.values() if p.role == role and p.ready_kib]
        return max(ready, default=None)

    def _add(self, pid: int) -> SeenProcess:
        seen = SeenProcess(pid, self._role(pid))
        self._seen[pid] = seen
        return seen

    def _role(self, pid: int) -> str:
        arguments = _cmdline(pid)
        if _command_name(pid) == "redis-server":  # it rewrites its cmdline: read the name
            return REDIS
        parent = self._seen.get(_stat_field(pid, PARENT_FIELD))
        if parent is not None and parent.role == ROLE_NAMES["worker"]:
            # RQ's work horse puts itself in its own process group; its scheduler does not.
            return HORSE if _stat_field(pid, GROUP_FIELD) == pid else RQ_SCHEDULER
        if ROLE_AFTER in arguments:
            command = arguments[arguments.index(ROLE_AFTER) + 1 :][:1]
            return ROLE_NAMES.get(command[0], command[0]) if command else ROLE_AFTER
        return " ".join(arguments)[:60] or f"pid {pid}"


def start_bare_interpreter(
    modules: Sequence[str], *, environment: Mapping[str, str]
) -> subprocess.Popen[str]:
    """`python -c 'import <modules>'`, printing its own peak RSS (VmHWM) once done: read it
    with `bare_interpreter_kib`. (A child's rusage would not do: on Linux its ru_maxrss starts
    from the parent's peak, whose memory it borrowed until exec.)"""
    imports = "".join(f"import {module}\n" for module in modules)
    code = f"{imports}print(open('/proc/self/status').read())"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=dict(environment),
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )


def bare_interpreter_kib(process: subprocess.Popen[str]) -> int:
    """The peak RSS, in KiB, that a `start_bare_interpreter` process printed."""
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{process.args!r} failed with {process.returncode}")
    return next(int(line.split()[1]) for line in output.splitlines() if line.startswith("VmHWM:"))


# Fields of /proc/<pid>/stat after the command name: 4 is the parent, 5 the process group.
PARENT_FIELD, GROUP_FIELD = 4, 5


def _tree(root: int) -> Iterator[int]:
    yield root
    for child in _children(root):
        yield from _tree(child)


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return children
    return children


def _status(pid: int) -> dict[str, int] | None:
    """VmRSS, VmHWM… in KiB, or None once the process is gone."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None
    figures = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name.startswith("Vm") and value.strip().endswith("kB"):
            figures[name] = int(value.split()[0])
    return figures


def _pss_kib(pid: int) -> int:
    try:
        lines = (PROC / str(pid) / "smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)


def _command_name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _stat_field(pid: int, field: int) -> int:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return int(stat.rpartition(")")[2].split()[field - 3])
