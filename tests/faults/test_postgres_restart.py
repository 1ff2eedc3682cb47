"""PostgreSQL restarted while players are typing and a worker is busy.

Three console players type /add, /backlog, /play, /stats and /done through the console adapter
(its one error handler, the chat router, the services, the real unit of work) against
PostgreSQL, while a real `questrya worker` looks the games up in a (fake) RAWG and pushes the
answers. Meanwhile the server is stopped (`pg_ctlcluster … stop`: a fast shutdown, which rolls
back open transactions and ends every connection) and started again. A command caught by the
restart may fail, with the adapter's one-line apology and never a traceback, and the player
types it again, as a person would; no command is half-applied; every command typed once the
server is back succeeds (the pool pings connections before use); and each job's effect and
each notification happen exactly once (jobs failed by the restart are retried by the worker's
scheduler, 10 s later).

The test restarts the cluster serving QUESTRYA_TEST_POSTGRES_URL, found by its port in
`pg_lsclusters`, and skips when that cannot be done here; it leaves the server running.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import io
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis
from sqlalchemy.engine import make_url

from bots.chat import build_router
from bots.console.app import ConsoleSession, console_speaker
from questrya.bootstrap import App, open_app
from questrya.common.jobs import METADATA_QUEUE
from questrya.orm.database import upgrade_database
from questrya.outbox.service import relay
from questrya.settings import load_settings
from tests.fakes_servers.rawg import FakeRawg
from tests.faults.conftest import (
    Ledger,
    added_reply,
    assert_nothing_lost_nothing_twice,
    rawg_settings,
    read_ledger,
    retries_of,
    running_worker,
    successful_runs,
)

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.postgres]

POSTGRES_URL_VARIABLE = "QUESTRYA_TEST_POSTGRES_URL"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
APOLOGY = "Sorry, something went wrong on my side; it has been logged."
PAUSE_SECONDS = 0.2  # between one player's commands
SLOW_LOOKUP_SECONDS = 1.0  # each request to the games database while the restart begins
POLL_SECONDS = 0.01
RESTART_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 90  # jobs failed by the restart are retried 10 s later
PLAYERS = {
    "ana": ("Hades", "Celeste", "Hollow Knight", "Portal 2", "Balatro", "Tunic", "Fez", "Gris"),
    "ben": ("Elden Ring", "Undertale", "Outer Wilds", "Inside", "Limbo", "Braid", "Control"),
    "cy": ("Terraria", "Factorio", "Bastion", "Cuphead", "Journey", "Yakuza 0", "Minecraft"),
}
READS = ("/backlog", "/stats")  # typed between the writes; they change nothing
SCRIPT = ("/add {title}", READS[0], "/play {title}", READS[1], "/done {title} 8")  # per game
COMMANDS_AFTER_RESTART = 3  # each player's, before the traffic stops
QUIET_PLAYER, QUIET_GAME = "dee", "Gris"


class Cluster(NamedTuple):
    version: str
    name: str
    port: int
    status: str
    owner: str


def clusters() -> list[Cluster]:
    """The PostgreSQL clusters of this machine, as `pg_lsclusters` lists them."""
    listed = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True, timeout=30
    )
    rows = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    return [Cluster(row[0], row[1], int(row[2]), row[3], row[4]) for row in rows]


def cluster_serving(url: str) -> Cluster:
    """The local cluster behind `url`, or skip the test saying why it cannot be restarted."""
    parsed = make_url(url)
    if parsed.host not in LOCAL_HOSTS:
        pytest.skip(f"PostgreSQL at {parsed.host} is not on this machine: it cannot be restarted")
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        pytest.skip("no pg_ctlcluster (postgresql-common) to restart PostgreSQL with")
    port = parsed.port or 5432
    serving = [cluster for cluster in clusters() if cluster.port == port]
    if len(serving) != 1 or serving[0].status != "online":
        pytest.skip(f"no single online cluster on port {port} in pg_lsclusters: {serving}")
    if os.geteuid() != 0 and getpass.getuser() != serving[0].owner:
        pytest.skip(f"restarting cluster {serving[0].name} needs root or {serving[0].owner}")
    return serving[0]


def pg_ctlcluster(cluster: Cluster, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster.version, cluster.name, action],
        capture_output=True,
        text=True,
        timeout=RESTART_TIMEOUT_SECONDS,
        check=False,
    )


def stop_cluster(cluster: Cluster) -> None:
    """A fast shutdown: open transactions are rolled back and every connection is ended."""
    stopped = pg_ctlcluster(cluster, "stop")
    assert stopped.returncode == 0, stopped.stderr


def start_cluster(cluster: Cluster) -> None:
    """Start the server; it accepts connections when this returns."""
    started = pg_ctlcluster(cluster, "start")
    assert started.returncode == 0, started.stderr


@contextlib.contextmanager
def left_running(cluster: Cluster) -> Iterator[None]:
    """Whatever happens in the block, the cluster is online again after it."""
    try:
        yield
    finally:
        [now] = [c for c in clusters() if (c.version, c.name) == (cluster.version, cluster.name)]
        if now.status != "online":
            started = pg_ctlcluster(cluster, "start")
            assert started.returncode == 0, f"PostgreSQL left stopped: {started.stderr}"


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def server_url() -> str:
    """The configured PostgreSQL server, or skip the test."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    return url


@pytest.fixture
def cluster(server_url: str) -> Cluster:
    """The cluster to restart, before anything is made on it (or skip the test)."""
    return cluster_serving(server_url)


@pytest.fixture
async def database_url(server_url: str, cluster: Cluster) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own on the server to restart."""
    name = f"questrya_faults_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    await upgrade_database(url)
    yield url
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
async def app(tmp_path: Path, redis_url: str, database_url: str) -> AsyncIterator[App]:
    settings = load_settings(_env_file=None, data_dir=tmp_path, database_url=database_url)
    async with open_app(settings, redis_url) as opened:
        yield opened


@pytest.fixture
async def quiet_app(tmp_path: Path, redis_url: str, database_url: str) -> AsyncIterator[App]:
    """A second bot process on the same database: its own engine and connection pool."""
    settings = load_settings(_env_file=None, data_dir=tmp_path, database_url=database_url)
    async with open_app(settings, redis_url) as opened:
        yield opened


@dataclass
class Restart:
    done: bool = False


@dataclass(frozen=True)
class Exchange:
    command: str
    shown: str  # what the chat showed in answer
    after_restart: bool  # typed once the server was back


@dataclass
class Player:
    """A console session: what it shows is what the player reads."""

    name: str
    session: ConsoleSession
    output: io.StringIO
    exchanges: list[Exchange] = field(default_factory=list)

    async def type(self, command: str, restart: Restart) -> str:
        after_restart = restart.done
        start = len(self.output.getvalue())
        await self.session.handle(command)
        shown = self.output.getvalue()[start:].rstrip("\n")
        self.exchanges.append(Exchange(command, shown, after_restart))
        return shown

    def answered_after_restart(self) -> int:
        return sum(1 for exchange in self.exchanges if exchange.after_restart)


def new_player(name: str, app: App) -> Player:
    output = io.StringIO()
    router = build_router(app.uow_factory)
    return Player(name, ConsoleSession(router, console_speaker(name, None), output), output)


def expected_answers(command: str) -> set[str] | None:
    """What a command may show: its success, or, typed again after an apology, the refusal
    saying the first try had in fact gone through; None for a read (any answer but the
    apology)."""
    if command in READS:
        return None
    verb, title = command.split(" ", 1)
    if verb == "/add":
        return {added_reply(title), f"{title} is already in your list."}
    if verb == "/play":
        return {f"Now playing {title}. Have fun!", f"You are already playing {title}."}
    title = title.removesuffix(" 8")
    return {
        f"Completed {title} · 8/10. Well played!",
        f"{title} is already completed; change its rating with /rate {title} 8.",
    }


async def keep_playing(player: Player, titles: tuple[str, ...], restart: Restart) -> None:
    """Add, play and finish game after game until the restart is well behind."""
    for title in titles:
        for command in (step.format(title=title) for step in SCRIPT):
            shown = await player.type(command, restart)
            while shown == APOLOGY:  # typed again, as a person would
                await asyncio.sleep(PAUSE_SECONDS)
                shown = await player.type(command, restart)
            await asyncio.sleep(PAUSE_SECONDS)
        if player.answered_after_restart() >= COMMANDS_AFTER_RESTART:
            return
    raise AssertionError(f"{player.name} ran out of games before the restart was over")


async def restart_during_traffic(
    players: list[Player], cluster: Cluster, connection: redis.Redis, games_database: FakeRawg
) -> None:
    """Restart the server while the players type and a lookup is running in the worker.

    Once every player has finished a game, the games database is slowed down; as soon as a
    lookup waits on it, the server is stopped, and started again only once that lookup, back
    from the games database, has failed on the database and been scheduled for a retry, so
    the worker's side of the fault is certain to happen. The players go on typing throughout,
    and until well after the server is back.
    """
    restart = Restart()
    traffic = [
        asyncio.create_task(keep_playing(player, PLAYERS[player.name], restart))
        for player in players
    ]
    retries = retries_of(METADATA_QUEUE, connection)
    try:
        async with asyncio.timeout(SETTLE_SECONDS):
            # Other processes and tasks change what is polled; there is no event to wait on.
            while any(len(player.exchanges) < len(SCRIPT) for player in players):  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
            games_database.response_delay = SLOW_LOOKUP_SECONDS
            while games_database.in_flight == 0:  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
            await asyncio.to_thread(stop_cluster, cluster)
            while retries.count == 0:  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
            games_database.response_delay = 0
            await asyncio.to_thread(start_cluster, cluster)
            restart.done = True
            await asyncio.gather(*traffic)
    finally:
        for task in traffic:
            task.cancel()


async def settled(connection: redis.Redis, database_url: str) -> Ledger:
    """The ledger once every game is looked up and told and every job has finished."""
    async with asyncio.timeout(SETTLE_SECONDS):
        while True:
            ledger = await read_ledger(database_url)
            runs = successful_runs(connection)
            done = all(game.lookup_state != "pending" for game in ledger.games)
            sent = all(n.state != "pending" for n in ledger.notifications)
            # Each game: its lookup, the delivery of its facts, its completion's announcement.
            if done and sent and len(runs) >= 3 * len(ledger.games):
                return ledger
            await asyncio.sleep(0.25)


async def test_a_postgres_restart_during_traffic_loses_nothing_and_doubles_nothing(
    tmp_path: Path,
    redis_url: str,
    app: App,
    quiet_app: App,
    database_url: str,
    cluster: Cluster,
    fake_rawg: FakeRawg,
) -> None:
    players = [new_player(name, app) for name in PLAYERS]
    # A player on a second bot process that is idle through the restart: the connection in its
    # pool goes stale unseen, and its next command must not pay for it.
    quiet = new_player(QUIET_PLAYER, quiet_app)
    server_back = Restart(done=True)

    with (
        left_running(cluster),
        running_worker(
            tmp_path, redis_url, QUESTRYA_DATABASE_URL=database_url, **rawg_settings(fake_rawg)
        ),
    ):
        assert await quiet.type(f"/add {QUIET_GAME}", Restart()) == added_reply(QUIET_GAME)
        await restart_during_traffic(players, cluster, app.connection, fake_rawg)
        for step in SCRIPT[1:]:
            command = step.format(title=QUIET_GAME)
            shown = await quiet.type(command, server_back)
            assert shown != APOLOGY, f"{command} failed on a connection the restart ended"
        await settled(app.connection, database_url)
    # Outbox records whose clean-up the restart cut short are the relay's: it finds their jobs
    # queued already and queues nothing twice.
    await relay(uow=app.uow_factory(), job_queue=app.job_queue, grace=timedelta(0))

    everyone = [*players, quiet]
    exchanges = [exchange for player in everyone for exchange in player.exchanges]
    assert all("Traceback" not in player.output.getvalue() for player in everyone)
    for exchange in exchanges:
        expected = expected_answers(exchange.command)
        if expected is not None:
            assert exchange.shown in {APOLOGY} | expected, exchange
    apologies = [exchange for exchange in exchanges if exchange.shown == APOLOGY]
    assert apologies, "the restart hit no command: the test proved nothing"
    assert [e for e in apologies if e.after_restart] == [], "a command failed after the restart"

    ledger = await read_ledger(database_url)
    added = {
        (player.name, exchange.command.removeprefix("/add "))
        for player in everyone
        for exchange in player.exchanges
        if exchange.command.startswith("/add ") and exchange.shown != APOLOGY
    }
    assert_nothing_lost_nothing_twice(ledger, app.connection, games=sorted(added))
    assert {game.status for game in ledger.games} == {"completed"}
