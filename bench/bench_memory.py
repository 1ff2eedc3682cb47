"""Memory: peak RSS of `questrya up` and of what it runs (the Telegram bot, the worker and its
work horses, the scheduler, its private redis-server) under the service-throughput load, sent
by 1,000 players through the fake Telegram Bot API; against the bare interpreter with the same
imports.

Run alone: .venv/bin/python -m bench.bench_memory

`questrya up` runs as in production on one machine (a token set and no terminal: it serves the
bot and runs the worker and scheduler as child processes). This process is the fake Bot API
server and reads every descendant's memory from /proc while the load runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.bench_service import SESSIONS, session_steps
from bench.common import REPO_ROOT, BenchResult, Ratio, format_count, print_result
from bench.memory_probe import (
    HORSE,
    REDIS,
    RQ_SCHEDULER,
    ProcessTree,
    bare_interpreter_kib,
    start_bare_interpreter,
)
from bench.service_seed import PlayerGames, player_games, seed_database
from bots.telegram.handlers import APOLOGY
from questrya.orm.database import create_engine, upgrade_database
from questrya.settings import ENV_PREFIX
from tests.fakes_servers.telegram import FakeBotApi

PLAYERS = 1_000
GAMES_PER_PLAYER = 20
# Telegram user ids (and account ids) of the players: 10,001 and up.
USER_ID_BASE = 10_001
SHUFFLE_SEED = 20_261_126
SAMPLE_SECONDS = 0.1
# After the last answer the worker goes on with the jobs the load queued; sampled this long.
SETTLE_SECONDS = 3.0
READY_TIMEOUT_SECONDS = 60.0
RUN_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0
LOG_TAIL_CHARACTERS = 2_000
KIB_PER_MIB = 1024
# Set here. A process under load should hold at most as much again as its code: its pools,
# caches and in-flight work are bounded, so more means state that grows with players or
# commands. And everything `questrya up` runs should fit a small machine (1 GiB, with the
# operating system and the database's page cache beside it).
GROWTH_GOAL = 2.0
TOTAL_GOAL_MIB = 512
# What each role imports, for its bare-interpreter baseline (no start-up, no connection).
ROLE_IMPORTS = {
    "questrya up": ("questrya.cli", "bots.console.runner"),
    "bot: questrya telegram": ("questrya.cli", "bots.telegram.runner"),
    "worker": ("questrya.cli", *(f"questrya.workers.tasks.{name}" for name in (
        "groups", "metadata", "notifications", "scores", "outbox", "releases"))),
    "scheduler": ("questrya.cli",),
}  # fmt: skip
BARE_PYTHON = "python -c pass"
# Forked from the worker: measured against the worker's imports.
FORKED_FROM_WORKER = (HORSE, RQ_SCHEDULER)


@dataclass(frozen=True)
class LoadFigures:
    """The load sent through the fake Bot API, and how it was answered."""

    startup_seconds: float
    updates: int
    answered: int
    apologies: int
    seconds: float


@dataclass(frozen=True)
class MemoryFigures:
    """What one `questrya up` run measured, with its baselines."""

    tree: ProcessTree
    bare_kib: dict[str, int]
    python_kib: int
    load: LoadFigures

    def bare(self, role: str) -> int | None:
        return self.bare_kib.get("worker" if role in FORKED_FROM_WORKER else role)

    def growth(self, role: str) -> float:
        bare = self.bare(role)
        return self.tree.peak_kib(role) / bare if bare else float("nan")


def run() -> BenchResult:
    """One `questrya up` under load, and the baselines."""
    with tempfile.TemporaryDirectory(prefix="questrya-bench-") as directory:
        environment = child_environment(Path(directory))
        figures = asyncio.run(measure(Path(directory), environment))
    return build_result(figures)


def child_environment(directory: Path) -> dict[str, str]:
    """This process's environment without its QUESTRYA_* settings, plus the run's own. No
    bytecode is written (none is in the source tree): every process compiles our modules the
    same way, the baselines too."""
    database_url = f"sqlite+aiosqlite:///{directory / 'questrya.db'}"
    return {
        name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)
    } | {
        f"{ENV_PREFIX}DATA_DIR": str(directory),
        f"{ENV_PREFIX}DATABASE_URL": database_url,
        f"{ENV_PREFIX}METADATA_PROVIDER": "offline",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


async def measure(directory: Path, environment: dict[str, str]) -> MemoryFigures:
    """Seed, start the baselines (they run meanwhile: their memory does not depend on the CPU
    they get), then `questrya up` under load."""
    players = [
        dataclasses.replace(player, number=player.number + USER_ID_BASE)
        for player in player_games(PLAYERS, GAMES_PER_PLAYER)
    ]
    await seed(environment[f"{ENV_PREFIX}DATABASE_URL"], players)
    baselines = start_baselines(environment)
    async with FakeBotApi() as api:
        process = start_up(api, directory, environment)
        tree = ProcessTree(process.pid, worker_log=directory / "worker.log")
        try:
            load = await run_load(api, tree, process, players, directory)
        finally:
            stop(process)
    bare = {role: bare_interpreter_kib(baseline) for role, baseline in baselines.items()}
    return MemoryFigures(tree, bare, python_kib=bare.pop(BARE_PYTHON), load=load)


async def run_load(
    api: FakeBotApi,
    tree: ProcessTree,
    process: subprocess.Popen[bytes],
    players: Sequence[PlayerGames],
    directory: Path,
) -> LoadFigures:
    """Once everything is ready, every update at once; sampled until all are answered and for
    SETTLE_SECONDS more."""
    launched = time.monotonic()
    await _until_ready(api, tree, process, directory)
    tree.mark_ready()
    started = time.monotonic()
    chats = send_load(api, players)
    answered = await _sample_until_answered(api, tree, chats, process, directory)
    seconds = time.monotonic() - started
    await _sample_for(tree, SETTLE_SECONDS)
    return LoadFigures(started - launched, len(chats), answered, _apologies(api, chats), seconds)


def start_baselines(environment: dict[str, str]) -> dict[str, subprocess.Popen[str]]:
    """A bare interpreter importing each role's modules, and one importing nothing."""
    roles = {**ROLE_IMPORTS, BARE_PYTHON: ()}
    return {
        role: start_bare_interpreter(modules, environment=environment)
        for role, modules in roles.items()
    }


async def seed(database_url: str, players: Sequence[PlayerGames]) -> None:
    """The service benchmark's players and games, with Telegram accounts."""
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        await seed_database(engine, players, platform="telegram")
    finally:
        await engine.dispose()


def start_up(
    api: FakeBotApi, directory: Path, environment: dict[str, str]
) -> subprocess.Popen[bytes]:
    """`questrya up` with the fake Bot API's token and URL, no terminal, no Redis URL."""
    with (directory / "up.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "questrya.cli", "up"],
            cwd=REPO_ROOT,
            env=environment
            | {
                f"{ENV_PREFIX}TELEGRAM_TOKEN": api.token,
                f"{ENV_PREFIX}TELEGRAM_API_URL": api.base_url,
            },
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def send_load(api: FakeBotApi, players: Sequence[PlayerGames]) -> list[int]:
    """One command a player, from bench_service's sessions (each command a quarter of them),
    each player in their private chat, all queued at once in a seeded random order."""
    lines = [(player, session_steps(player)[_pick(player)].text) for player in players]
    random.Random(SHUFFLE_SEED).shuffle(lines)
    chats = []
    for player, text in lines:
        user = api.user(player.number, f"Player {player.number}")
        chat = api.private_chat(user)
        api.send_command(chat, user, text)
        chats.append(int(chat["id"]))
    return chats


def _pick(player: PlayerGames) -> int:
    return (player.number // len(SESSIONS)) % 2


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: `questrya up` stops its children and its redis-server, then exits."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _until_ready(
    api: FakeBotApi, tree: ProcessTree, process: subprocess.Popen[bytes], directory: Path
) -> None:
    """Until the bot polls (its menu published) and the worker listens on its queues."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not (_bot_ready(api) and tree.worker_listening()):
        _check_alive(process, directory)
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in {READY_TIMEOUT_SECONDS} s:\n{_log_tail(directory)}")
        tree.sample()
        await asyncio.sleep(SAMPLE_SECONDS)


def _bot_ready(api: FakeBotApi) -> bool:
    menu = any(call.ok for call in api.calls_to("setMyCommands"))
    return menu and any(call.status is None for call in api.calls_to("getUpdates"))


async def _sample_until_answered(
    api: FakeBotApi,
    tree: ProcessTree,
    chats: Sequence[int],
    process: subprocess.Popen[bytes],
    directory: Path,
) -> int:
    """Sample until every chat has the bot's answer; return how many chats were answered."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while (answered := sum(1 for chat in chats if api.bot_messages(chat))) < len(chats):
        _check_alive(process, directory)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{answered} of {len(chats)} chats answered in {RUN_TIMEOUT_SECONDS} s:\n"
                f"{_log_tail(directory)}"
            )
        tree.sample()
        await asyncio.sleep(SAMPLE_SECONDS)
    return answered


async def _sample_for(tree: ProcessTree, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tree.sample()
        await asyncio.sleep(SAMPLE_SECONDS)


def _apologies(api: FakeBotApi, chats: Sequence[int]) -> int:
    return sum(
        1 for chat in chats for message in api.bot_messages(chat) if message.get("text") == APOLOGY
    )


def _check_alive(process: subprocess.Popen[bytes], directory: Path) -> None:
    if process.poll() is not None:
        raise RuntimeError(f"questrya up exited with {process.returncode}:\n{_log_tail(directory)}")


def _log_tail(directory: Path) -> str:
    logs = [directory / name for name in ("up.log", "telegram.log", "worker.log")]
    return "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-LOG_TAIL_CHARACTERS:]}"
        for log in logs
        if log.exists()
    )


def build_result(figures: MemoryFigures) -> BenchResult:
    tree = figures.tree
    python_roles = [role for role in (*ROLE_IMPORTS, *FORKED_FROM_WORKER) if tree.seen(role)]
    ratios = [
        Ratio(
            f"{role}: peak RSS ÷ bare interpreter with its imports",
            figures.growth(role),
            f"<= {GROWTH_GOAL:g} (set here)",
            figures.growth(role) <= GROWTH_GOAL,
        )
        for role in python_roles
    ]
    total_mib = tree.peak_total_pss_kib / KIB_PER_MIB
    ratios.append(
        Ratio(
            "everything `questrya up` runs: peak of the summed PSS, MiB",
            total_mib,
            f"<= {TOTAL_GOAL_MIB} MiB (set here)",
            total_mib <= TOTAL_GOAL_MIB,
        )
    )
    return BenchResult(
        title="Memory: `questrya up` (Telegram bot, worker, scheduler) under the service load",
        module="bench.bench_memory",
        headers=[
            "process",
            "processes seen",
            "bare interpreter, same imports (MiB)",
            "ready, before the load (MiB)",
            "peak RSS, VmHWM (MiB)",
            "peak ÷ bare",
        ],
        rows=[*(_row(figures, role) for role in (*python_roles, REDIS)), _total_row(figures)],
        ratios=ratios,
        notes=_notes(figures),
    )


def _row(figures: MemoryFigures, role: str) -> list[str]:
    tree = figures.tree
    bare = figures.bare(role)
    ready = tree.ready_kib(role)
    return [
        role,
        str(tree.count(role)),
        _mib(bare) if bare else "–",
        _mib(ready) if ready else ("– (one per job)" if role == HORSE else "– (none yet)"),
        _mib(tree.peak_kib(role)),
        f"{figures.growth(role):.2f}" if bare else "–",
    ]


def _total_row(figures: MemoryFigures) -> list[str]:
    tree = figures.tree
    return [
        "**everything, summed PSS** (shared pages counted once)",
        str(tree.count()),
        "–",
        _mib(tree.ready_total_pss_kib),
        _mib(tree.peak_total_pss_kib),
        "–",
    ]


def _mib(kib: int) -> str:
    return f"{kib / KIB_PER_MIB:.1f}"


def _notes(figures: MemoryFigures) -> list[str]:
    return [
        f"Load: {format_count(figures.load.updates)} updates from {format_count(PLAYERS)} players"
        f" (seeded with {GAMES_PER_PLAYER} games each, as in bench_service), one command each"
        " from bench_service's sessions (/add, /backlog, /done, /next, a quarter each), all"
        " queued at once on the fake Bot API; "
        f"{format_count(figures.load.answered)} chats answered in {figures.load.seconds:.1f} s"
        f" ({figures.load.apologies} apologies for errors), after"
        f" {figures.load.startup_seconds:.1f} s of start-up. The bot's rate limiter holds it to"
        " about 30 messages a second, as Telegram does.",
        "The worker runs the jobs the load queued (metadata lookups, notifications pushed to the"
        " chats through the fake) as fast as it can; sampling goes on for"
        f" {SETTLE_SECONDS:g} s after the last answer.",
        f"Every {SAMPLE_SECONDS:g} s this process reads /proc for each descendant of"
        " `questrya up`: VmHWM (peak RSS) from status, Pss from smaps_rollup. A work horse lives"
        " for one job; a horse's peak is its highest VmHWM seen while it ran (short ones may be"
        " missed). RSS counts pages shared with the parent (a horse shares most of the"
        " worker's), so the total is the sum of PSS, which counts each shared page once.",
        "Ready: each process's RSS once the bot polls and the worker listens, before the first"
        " update. Bare interpreter: `python -c 'import …'` of the role's modules (no start-up,"
        f" no connection), its peak RSS; a bare `python -c pass` peaks at"
        f" {_mib(figures.python_kib)} MiB. The horses' baseline is the worker's.",
    ]


def main() -> None:
    print_result(run())


if __name__ == "__main__":
    main()
