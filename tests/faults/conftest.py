"""Helpers for fault tests: a fake RAWG, the real `questrya` commands, and the final ledger.

Each fault test ends by reading what the player was told, straight from the database and the
console inbox in Redis, so "nothing lost, nothing sent twice" is checked the same way everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry
from rq.results import Result
from sqlalchemy import text

from questrya.common.jobs import ALL_QUEUES
from questrya.notifications.senders.console import INBOX_KEY
from questrya.orm.database import create_engine
from questrya.workers.schedules import NIGHTLY_REFRESH_ID, OUTBOX_RELAY_ID, RELEASE_DAYS_ID
from tests.e2e.conftest import clean_environment, run_questrya
from tests.fakes_servers.rawg import API_KEY, FakeRawg

PLAYER = "alice"
PLAYER_CHAT = f"user:{PLAYER}"
HADES_JOB_ID = "fetch-metadata-1"
HADES_FACTS_LINE = "Hades (2020) · PC"
RAWG_SEARCH_PATH = "/api/games"
POLL_SECONDS = 0.05
BURST_SECONDS = 90  # a bound on a burst worker's run
# rq-scheduler's jobs run again and again under one id by design.
RECURRING = frozenset({OUTBOX_RELAY_ID, NIGHTLY_REFRESH_ID, RELEASE_DAYS_ID})


@pytest.fixture
async def fake_rawg() -> AsyncIterator[FakeRawg]:
    """A fake RAWG on this test's event loop; workers in other processes call it over HTTP."""
    async with FakeRawg() as server:
        yield server


def searches(fake: FakeRawg) -> int:
    """How many game searches reached the fake RAWG."""
    return sum(1 for request in fake.requests if request.path == RAWG_SEARCH_PATH)


def rawg_settings(fake: FakeRawg) -> dict[str, str]:
    """The environment that points a worker's metadata lookups at `fake`."""
    return {
        "QUESTRYA_METADATA_PROVIDER": "rawg",
        "QUESTRYA_RAWG_API_KEY": API_KEY,
        "QUESTRYA_RAWG_API_URL": fake.url,
    }


async def add_game_in_console(data_dir: Path, redis_url: str, title: str) -> None:
    """`/add TITLE` typed into `questrya console` with no worker running; it answers at once."""
    # A thread, so the fake RAWG on this event loop keeps answering meanwhile.
    result = await asyncio.to_thread(
        run_questrya,
        data_dir,
        "console",
        "--user",
        PLAYER,
        stdin=f"/add {title}\n",
        QUESTRYA_REDIS_URL=redis_url,
    )
    assert result.stdout.splitlines() == [added_reply(title)]


def added_reply(title: str) -> str:
    return f"Added {title} to your backlog. I'll look up its details."


async def run_burst_worker(data_dir: Path, redis_url: str, **settings: str) -> str:
    """`questrya worker --burst`: the production worker, until the queues are empty; its log."""
    environment = {"QUESTRYA_REDIS_URL": redis_url, **settings}
    burst = functools.partial(
        run_questrya, data_dir, "worker", "--burst", timeout=BURST_SECONDS, **environment
    )
    return (await asyncio.to_thread(burst)).stderr


def retries_of(queue: str, connection: redis.Redis) -> ScheduledJobRegistry:
    """rq's registry of the queue's jobs waiting for a retry (or to be run at a given time)."""
    return ScheduledJobRegistry(queue, connection=connection)  # type: ignore[no-untyped-call]


async def wait_until(condition: Callable[[], bool], *, within: float, waiting_for: str) -> None:
    """Poll `condition` until it holds; fail the test after `within` seconds."""
    try:
        async with asyncio.timeout(within):
            # Another process changes what is polled; there is no event to wait on.
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        pytest.fail(f"gave up after {within} s waiting for {waiting_for}")


def query(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the SQLite database the `questrya` commands share in `data_dir`."""
    with contextlib.closing(sqlite3.connect(data_dir / "questrya.db")) as connection:
        return connection.execute(sql).fetchall()


def inbox_ids(connection: redis.Redis, chat_id: str = PLAYER_CHAT) -> list[int]:
    """Ids of the notifications the console sender pushed to a chat and nobody read yet."""
    return sorted(int(nid) for nid in connection.hkeys(INBOX_KEY.format(chat_id=chat_id)))


def assert_told_once(data_dir: Path, connection: redis.Redis, *, first_line: str) -> None:
    """The player got exactly one message, sent once, and no job or outbox entry is left over."""
    notifications = query(data_dir, "SELECT id, state, text FROM notifications")
    assert len(notifications) == 1, notifications
    notification_id, state, text = notifications[0]
    assert state == "sent"
    assert text.startswith(first_line)
    assert inbox_ids(connection) == [notification_id]
    assert query(data_dir, "SELECT lookup_state FROM games") == [("found",)]
    assert query(data_dir, "SELECT job_id FROM job_outbox") == []
    assert_queues_drained(connection)


def assert_queues_drained(connection: redis.Redis) -> None:
    """Nothing waits, runs, waits for a retry or has failed for good on any queue."""
    for name in ALL_QUEUES:
        queue = Queue(name, connection=connection)
        assert queue.count == 0, f"{name}: {queue.job_ids}"
        assert queue.started_job_registry.count == 0, name
        assert queue.scheduled_job_registry.count == 0, name
        assert FailedJobRegistry(name, connection=connection).count == 0, name


# -- long-running `questrya worker` processes ---------------------------------------------------

WORKER_STOP_SECONDS = 20


def start_worker(
    data_dir: Path, redis_url: str, *, log_name: str = "worker", **settings: str
) -> subprocess.Popen[bytes]:
    """`questrya worker` in its own session, so one killpg takes it and its scheduler child;
    it logs to `data_dir/<log_name>.log`."""
    return start_questrya("worker", data_dir, redis_url, log_name=log_name, **settings)


def start_questrya(
    command: str, data_dir: Path, redis_url: str, *, log_name: str, **settings: str
) -> subprocess.Popen[bytes]:
    """`questrya COMMAND` running in its own session, logging to `data_dir/<log_name>.log`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / f"{log_name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "questrya.cli", command],
            env=clean_environment(data_dir, QUESTRYA_REDIS_URL=redis_url, **settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def running_worker(
    data_dir: Path, redis_url: str, *, log_name: str = "worker", **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A production worker (scheduler on, so retries fire) for the `with` block; then a warm
    shutdown, and whatever is left of its session killed, on failure too."""
    with running("worker", data_dir, redis_url, log_name=log_name, **settings) as worker:
        yield worker


@contextlib.contextmanager
def running(
    command: str, data_dir: Path, redis_url: str, *, log_name: str, **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`questrya COMMAND` for the `with` block, stopped with SIGTERM at the end; whatever is
    left of its session is killed, on failure too."""
    process = start_questrya(command, data_dir, redis_url, log_name=log_name, **settings)
    try:
        yield process
    finally:
        process.terminate()  # rq's warm shutdown: the current job finishes first
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=WORKER_STOP_SECONDS)
        kill_session(process.pid)
        process.wait()


def worker_log(data_dir: Path, log_name: str = "worker") -> str:
    return (data_dir / f"{log_name}.log").read_text(errors="replace")


class ProcessStatus(NamedTuple):
    state: str
    parent: int
    group: int
    session: int


def process_status(pid: int) -> ProcessStatus | None:
    """What /proc says of a process, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in parentheses may hold spaces; the fields after it do not.
    state, parent, group, session = stat.rpartition(")")[2].split()[:4]
    return ProcessStatus(state, int(parent), int(group), int(session))


def live_processes() -> dict[int, ProcessStatus]:
    """Every process on the machine that is neither gone nor a zombie, by pid."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    statuses = {pid: process_status(pid) for pid in pids}
    return {pid: status for pid, status in statuses.items() if status and status.state != "Z"}


def kill_session(session_id: int) -> None:
    """SIGKILL whatever is left of a session: the worker, its scheduler, its horse."""
    if not Path("/proc/self/stat").exists():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(session_id, signal.SIGKILL)
        return
    for pid, status in live_processes().items():
        if status.session == session_id:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- the ledger: nothing lost, nothing done twice ------------------------------------------------


class StoredGame(NamedTuple):
    id: int
    player: str  # the account's external id: the console user name, the Telegram user id
    title: str
    status: str
    lookup_state: str


class StoredNotification(NamedTuple):
    id: int
    event_key: str
    platform: str
    chat_id: str
    state: str
    attempts: int


@dataclass(frozen=True)
class Ledger:
    """What the database says was done, read after the faults are over."""

    games: list[StoredGame]
    notifications: list[StoredNotification]
    outbox: list[str]

    def game(self, player: str, title: str) -> StoredGame:
        [game] = [g for g in self.games if (g.player, g.title) == (player, title)]
        return game

    def about_game(self, game_id: int) -> list[StoredNotification]:
        """The notifications a game's lookup pushed (its facts, a choice, or "not found")."""
        prefix = f"game-{game_id}-"
        return [n for n in self.notifications if n.event_key.startswith(prefix)]


async def read_ledger(database_url: str) -> Ledger:
    """Games, notifications and the outbox, straight from the database (SQLite or PostgreSQL)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            games = await connection.execute(
                text(
                    "SELECT g.id, a.external_id, g.title, g.status, g.lookup_state FROM games g"
                    " JOIN accounts a ON a.player_id = g.player_id ORDER BY g.id"
                )
            )
            notifications = await connection.execute(
                text(
                    "SELECT id, event_key, platform, chat_id, state, attempts"
                    " FROM notifications ORDER BY id"
                )
            )
            outbox = await connection.execute(text("SELECT job_id FROM job_outbox"))
            return Ledger(
                games=[StoredGame(*row) for row in games],
                notifications=[StoredNotification(*row) for row in notifications],
                outbox=[row[0] for row in outbox],
            )
    finally:
        await engine.dispose()


def assert_nothing_lost_nothing_twice(
    ledger: Ledger,
    connection: redis.Redis,
    *,
    games: Collection[tuple[str, str]],
    other_notifications: int = 0,
) -> None:
    """Every (player, title) asked for is stored once and was looked up; each lookup told its
    chat exactly one message, sent; `other_notifications` more (feed posts) were sent too;
    console chats hold exactly the sent messages; every job ran to success exactly once; and
    nothing is left in the outbox or on any queue."""
    stored = Counter((game.player, game.title) for game in ledger.games)
    assert stored == Counter(games), "games lost or stored twice"
    assert [g for g in ledger.games if g.lookup_state == "pending"] == [], "never looked up"
    for game in ledger.games:
        assert len(ledger.about_game(game.id)) == 1, (game, ledger.about_game(game.id))
    assert len(ledger.notifications) == len(ledger.games) + other_notifications
    assert [n for n in ledger.notifications if n.state != "sent"] == []
    assert_console_inboxes_hold_what_was_sent(ledger, connection)
    assert ledger.outbox == []
    assert_queues_drained(connection)
    successes = {
        job: runs for job, runs in successful_runs(connection).items() if job not in RECURRING
    }
    expected_jobs = {f"fetch-metadata-{game.id}" for game in ledger.games} | {
        f"deliver-notification-{n.id}" for n in ledger.notifications
    }
    assert expected_jobs <= successes.keys(), expected_jobs - successes.keys()
    assert {job: runs for job, runs in successes.items() if runs != 1} == {}, "jobs run twice"


def assert_console_inboxes_hold_what_was_sent(ledger: Ledger, connection: redis.Redis) -> None:
    """Each console chat's inbox holds the notifications sent to it, each once."""
    chats = {n.chat_id for n in ledger.notifications if n.platform == "console"}
    for chat_id in chats:
        sent = [n.id for n in ledger.notifications if n.chat_id == chat_id and n.state == "sent"]
        assert inbox_ids(connection, chat_id) == sorted(sent), chat_id


def successful_runs(connection: redis.Redis) -> dict[str, int]:
    """How many times each finished job ran to success, from rq's own results."""
    runs: dict[str, int] = {}
    for name in ALL_QUEUES:
        for job_id in FinishedJobRegistry(name, connection=connection).get_job_ids():
            results = Job.fetch(job_id, connection=connection).results()
            runs[job_id] = sum(1 for r in results if r.type == Result.Type.SUCCESSFUL)
    return runs
