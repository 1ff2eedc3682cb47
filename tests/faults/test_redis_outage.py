"""Redis down during `/add`: the game is saved at once and its lookup is queued once Redis is back.

Each test gets its own redis-server (an EmbeddedRedis in its temp dir) to stop and start, so the
session's server is untouched. `/add` goes through the same wiring as the console (`open_app`,
the chat router), in this process; the lookup then runs in a real `questrya worker`.

The long test keeps Redis stopped for the issue's 30 s while three players go on typing and a
production worker waits (rq retries its connection with a growing pause: 1, 2, 4, 8, 16 s, so
it is back about 31 s after losing Redis). Redis is stopped while the worker is idle: when
Redis goes away in the middle of a job, rq's worker process quits, which is another fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.results import Result
from rq.worker import WorkerStatus

from bots.chat import ChatRouter, Reply, build_router
from bots.console.app import console_speaker
from questrya.bootstrap import App, open_app
from questrya.common.jobs import ALL_QUEUES, METADATA_QUEUE
from questrya.outbox.service import relay
from questrya.settings import load_settings
from questrya.workers.redis_server import EmbeddedRedis
from questrya.workers.schedules import OUTBOX_RELAY_ID
from tests.e2e.conftest import run_questrya
from tests.faults.conftest import (
    HADES_FACTS_LINE,
    HADES_JOB_ID,
    PLAYER,
    added_reply,
    assert_nothing_lost_nothing_twice,
    assert_told_once,
    query,
    read_ledger,
    run_burst_worker,
    running,
    running_worker,
    successful_runs,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

HUNG_BOUND_SECONDS = 60
RELAY_START_SECONDS = 0.5  # for the relay task to reach its call to Redis


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own, running; the test may stop and restart it."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "questrya"


@pytest.fixture
async def app(data_dir: Path, private_redis: EmbeddedRedis) -> AsyncIterator[App]:
    """The console's wiring on a fresh SQLite database in `data_dir` and the private Redis."""
    # No `.env`: only what this test sets may configure the app.
    settings = load_settings(_env_file=None, data_dir=data_dir)
    async with open_app(settings, private_redis.url) as opened:
        yield opened


async def relay_now(app: App) -> int:
    """The outbox relay without its grace period: the job was recorded a moment ago."""
    return await relay(uow=app.uow_factory(), job_queue=app.job_queue, grace=timedelta(0))


async def test_an_add_while_redis_is_down_is_queued_once_redis_is_back(
    data_dir: Path, private_redis: EmbeddedRedis, app: App
) -> None:
    private_redis.stop()

    reply = await build_router(app.uow_factory).handle_text(
        console_speaker(PLAYER, None), "/add Hades"
    )

    assert reply.text == added_reply("Hades")
    assert query(data_dir, "SELECT title, lookup_state FROM games") == [("Hades", "pending")]
    assert query(data_dir, "SELECT job_id FROM job_outbox") == [(HADES_JOB_ID,)]
    assert await relay_now(app) == 0  # still down: the relay keeps the job too
    assert query(data_dir, "SELECT job_id FROM job_outbox") == [(HADES_JOB_ID,)]

    private_redis.start()
    assert await relay_now(app) == 1

    assert Queue(METADATA_QUEUE, connection=app.connection).job_ids == [HADES_JOB_ID]
    assert query(data_dir, "SELECT job_id FROM job_outbox") == []
    await run_burst_worker(data_dir, private_redis.url)
    assert_told_once(data_dir, app.connection, first_line=HADES_FACTS_LINE)

    # Relaying and working again must not send it twice.
    assert await relay_now(app) == 0
    await run_burst_worker(data_dir, private_redis.url)
    assert_told_once(data_dir, app.connection, first_line=HADES_FACTS_LINE)


def test_the_console_answers_add_and_exits_cleanly_while_redis_is_down(
    data_dir: Path, private_redis: EmbeddedRedis
) -> None:
    private_redis.stop()

    result = run_questrya(
        data_dir,
        "console",
        "--user",
        PLAYER,
        stdin="/add Hades\n",
        QUESTRYA_REDIS_URL=private_redis.url,
    )

    assert result.stdout.splitlines() == [added_reply("Hades")]
    assert "Traceback" not in result.stderr
    assert query(data_dir, "SELECT job_id FROM job_outbox") == [(HADES_JOB_ID,)]


async def test_an_add_while_redis_is_full_is_answered_and_queued_once_redis_has_room(
    data_dir: Path, private_redis: EmbeddedRedis, app: App
) -> None:
    # Redis at its memory limit refuses writes (OOM), as a production Redis set to noeviction.
    app.connection.config_set("maxmemory-policy", "noeviction")
    app.connection.config_set("maxmemory", "1")

    reply = await build_router(app.uow_factory).handle_text(
        console_speaker(PLAYER, None), "/add Hades"
    )

    assert reply.text == added_reply("Hades")
    assert query(data_dir, "SELECT job_id FROM job_outbox") == [(HADES_JOB_ID,)]
    assert await relay_now(app) == 0  # still full
    app.connection.config_set("maxmemory", "0")
    assert await relay_now(app) == 1
    await run_burst_worker(data_dir, private_redis.url)
    assert_told_once(data_dir, app.connection, first_line=HADES_FACTS_LINE)


@contextlib.contextmanager
def hung(connection: redis.Redis) -> Iterator[None]:
    """The redis-server stopped with SIGSTOP: it accepts connections and answers nothing, as
    a stalled host or a network that drops packets; it goes on with SIGCONT at the end."""
    pid = int(connection.info("server")["process_id"])
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def can_write_at_once(data_dir: Path) -> bool:
    """Whether a writer gets SQLite's write lock without waiting at all."""
    path = data_dir / "questrya.db"
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as db:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            return False
        db.execute("ROLLBACK")
        return True


async def test_while_redis_hangs_commands_are_answered_and_the_relay_does_not_lock_the_database(
    data_dir: Path, private_redis: EmbeddedRedis, app: App
) -> None:
    router = build_router(app.uow_factory)
    alice, bob = console_speaker(PLAYER, None), console_speaker("bob", None)

    with hung(app.connection):
        # A bound on the test, not a timing assertion: each call to the hung Redis gives up
        # after redis-py's socket timeout (5 s by default).
        async with asyncio.timeout(HUNG_BOUND_SECONDS):
            reply = await router.handle_text(alice, "/add Hades")
            assert reply.text == added_reply("Hades")
            # The relay waits on the hung Redis too, while another player adds a game: on
            # SQLite, a relay that held its transaction meanwhile would lock everyone out.
            relaying = asyncio.create_task(relay_now(app))
            await asyncio.sleep(RELAY_START_SECONDS)
            assert can_write_at_once(data_dir), "the relay holds the database while it waits"
            reply = await router.handle_text(bob, "/add Celeste")
            assert reply.text == added_reply("Celeste")
            assert await relaying == 0

    assert sorted(query(data_dir, "SELECT job_id FROM job_outbox")) == [
        (HADES_JOB_ID,),
        ("fetch-metadata-2",),
    ]
    # Redis may have queued them on waking (the requests had been sent); queued once either way.
    assert await relay_now(app) == 2
    await run_burst_worker(data_dir, private_redis.url)
    ledger = await read_ledger(app.settings.effective_database_url)
    assert_nothing_lost_nothing_twice(
        ledger, app.connection, games=[(PLAYER, "Hades"), ("bob", "Celeste")]
    )


OUTAGE_SECONDS = 30  # the figure
ROUND_SECONDS = 2.5  # each player types a command this often, Redis up or down
OUTBOX_CLEARED_SECONDS = 5  # well under the relay's 30 s grace and its minute between runs
GROUP = "crew"
PLAYERS = ("ana", "ben", "cy")
TITLES = {
    "ana": ("Hades", "Celeste", "Hollow Knight", "Portal 2", "Balatro", "Tunic", "Fez"),
    "ben": ("Elden Ring", "Undertale", "Outer Wilds", "Inside", "Limbo", "Braid", "Control"),
    "cy": ("Terraria", "Factorio", "Bastion", "Cuphead", "Journey", "Yakuza 0", "Gris"),
}
SETTLE_SECONDS = 90  # the worker is back ~31 s after Redis went away, then runs ~50 jobs


def script(player: str) -> list[tuple[str, str]]:
    """A player's commands, each with the start of its expected answer: add a game, finish
    it with a 9 (a recommendation for the group), look at the list and at the stats."""
    commands = []
    for title in TITLES[player]:
        commands += [
            (f"/add {title}", added_reply(title)),
            (f"/done {title} 9", f"Completed {title} · 9/10. Well played!"),
            ("/backlog all", "Your games — all, page 1:"),
            ("/stats", ""),
        ]
    return commands


async def say(router: ChatRouter, player: str, command: str, chat: str | None = None) -> Reply:
    reply = await router.handle_text(console_speaker(player, chat), command)
    assert not reply.refused, (player, command, reply.text)
    return reply


def relayed_by_the_scheduler(connection: redis.Redis) -> int | None:
    """How many jobs the relay that `questrya scheduler` schedules has queued over all its
    runs; None before its first run is over."""
    try:
        relay_job = Job.fetch(OUTBOX_RELAY_ID, connection=connection)
    except NoSuchJobError:
        return None
    runs = [r for r in relay_job.results() if r.type == Result.Type.SUCCESSFUL]
    return sum(int(run.return_value or 0) for run in runs) if runs else None


def all_idle(connection: redis.Redis) -> bool:
    """No job waits or runs, and every worker waits for work: stopping Redis now kills no
    worker (rq's worker quits when Redis goes away in the middle of a job)."""
    queues = [Queue(name, connection=connection) for name in ALL_QUEUES]
    if any(queue.count or queue.started_job_registry.count for queue in queues):
        return False
    workers = Worker.all(connection=connection)
    return bool(workers) and all(w.get_state() == WorkerStatus.IDLE for w in workers)


def first_games_told(data_dir: Path) -> bool:
    sent = query(data_dir, "SELECT count(*) FROM notifications WHERE state = 'sent'")
    return sent == [(len(PLAYERS),)]


def outbox_count(data_dir: Path) -> int:
    [(count,)] = query(data_dir, "SELECT count(*) FROM job_outbox")
    return int(count)


@pytest.mark.timeout(300)  # a failure waits out its bounds, which add up past the default
async def test_thirty_seconds_without_redis_during_traffic_lose_nothing_and_send_nothing_twice(
    data_dir: Path, private_redis: EmbeddedRedis, app: App
) -> None:
    router = build_router(app.uow_factory)
    for player in PLAYERS:
        await say(router, player, "/share on", GROUP)
    await say(router, PLAYERS[0], "/feed on", GROUP)
    scripts = {player: script(player) for player in PLAYERS}
    typed: list[str] = []

    async def next_round() -> None:
        for player in PLAYERS:
            command, expected = scripts[player].pop(0)
            reply = await say(router, player, command)
            assert reply.text.startswith(expected), (player, command, reply.text)
            if command.startswith(("/add", "/done")):
                typed.append(command)

    with (
        running_worker(data_dir, private_redis.url) as worker,
        running("scheduler", data_dir, private_redis.url, log_name="scheduler") as scheduler,
    ):
        await next_round()  # each player adds a first game while Redis is up
        await wait_until(
            lambda: (
                first_games_told(data_dir)
                and relayed_by_the_scheduler(app.connection) == 0  # its first run is over
                and all_idle(app.connection)
            ),
            within=SETTLE_SECONDS,
            waiting_for="the first games' details to be pushed and the worker to be idle",
        )

        private_redis.stop()
        stopped_at = time.monotonic()
        while time.monotonic() - stopped_at < OUTAGE_SECONDS:
            await next_round()  # answered at once, though nothing can be queued
            await asyncio.sleep(ROUND_SECONDS)
        writes_while_down = len(typed) - len(PLAYERS)
        assert outbox_count(data_dir) == writes_while_down  # one job per /add or /done
        assert await relay_now(app) == 0  # still down: the relay keeps them too
        private_redis.start()

        # `questrya scheduler` has the worker run the relay every minute. The run due once
        # Redis is back leaves jobs recorded in the last 30 s to the process that asked for
        # them, so it queues the early part of the outage...
        await wait_until(
            lambda: (relayed_by_the_scheduler(app.connection) or 0) >= len(PLAYERS),
            within=SETTLE_SECONDS,
            waiting_for="the scheduled relay to queue the first round of the outage",
        )
        # ...and the run a minute later the rest (run here at once, without its grace period),
        # once the jobs it queued are done: a running job's delivery has an outbox row of its
        # own for a moment, which a relay without a grace period would count as well.
        await wait_until(
            lambda: all_idle(app.connection),
            within=SETTLE_SECONDS,
            waiting_for="the jobs the scheduled relay queued to be done",
        )
        rest = await relay_now(app)
        assert relayed_by_the_scheduler(app.connection) == writes_while_down - rest
        # The relayed jobs are running meanwhile, and each delivery a job queues has its own
        # row for the moment between the job's commit and its queueing: wait that out, but
        # not the relay's next run, which a row left behind would need.
        await wait_until(
            lambda: outbox_count(data_dir) == 0,
            within=OUTBOX_CLEARED_SECONDS,
            waiting_for="the outbox to be empty",
        )

        # Each /add: its lookup and the delivery of its details; each /done: its announcement
        # and the delivery of the group's post; and the scheduler's relay.
        await wait_until(
            lambda: len(successful_runs(app.connection)) == 2 * len(typed) + 1,
            within=SETTLE_SECONDS,
            waiting_for="every job of the outage to run",
        )
        assert worker.poll() is None, "the worker did not live through the outage"
        assert scheduler.poll() is None, "the scheduler did not live through the outage"

    ledger = await read_ledger(app.settings.effective_database_url)
    games = [(p, t) for p in PLAYERS for t in TITLES[p] if f"/add {t}" in typed]
    finished = [c for c in typed if c.startswith("/done")]
    assert_nothing_lost_nothing_twice(
        ledger, app.connection, games=games, other_notifications=len(finished)
    )
    assert sorted(g.title for g in ledger.games if g.status == "completed") == sorted(
        c.removeprefix("/done ").removesuffix(" 9") for c in finished
    )
