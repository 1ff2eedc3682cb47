"""One recommendation to 1,000 Telegram groups: messages per second delivered through the fake
Bot API, which enforces Telegram's 30 messages a second overall and answers 429 beyond that.

Run alone: .venv/bin/python -m bench.bench_fanout

One player shares to 1,000 group feeds and finishes a game rated 9. The groups service
announces it (one notification per feed, each queueing its delivery on RQ); then
`questrya worker` processes deliver the 1,000 posts with the Telegram sender, whose limits are
counted in Redis across the workers. The fake server (this process) records every call, so
what each group got is counted there, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis
from sqlalchemy import insert

from bench.bench_worker import worker_environment
from bench.common import (
    REPO_ROOT,
    BenchResult,
    Ratio,
    format_count,
    format_seconds,
    print_result,
    timed,
)
from bench.service_seed import RecordingJobQueue
from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.groups import service as group_service
from questrya.metadata import service as metadata_service
from questrya.metadata.providers.offline import OfflineCatalog
from questrya.orm.database import create_engine, create_session_factory, upgrade_database
from questrya.orm.models import GroupFeedRow, GroupMemberRow
from questrya.settings import ENV_PREFIX
from questrya.unit_of_work import SqlUnitOfWork
from questrya.users import service as user_service
from questrya.workers.queues import RqJobQueue, connect
from questrya.workers.redis_server import EmbeddedRedis
from tests.fakes_servers.telegram import Call, FakeBotApi
from tests.fakes_servers.telegram_methods import SEND_METHODS

GROUPS = 1_000
WORKERS = 3
LIMIT_PER_SECOND = 30  # Telegram's broadcast limit, enforced by the fake
RATE_GOAL = 0.9  # of the limit, sustained (the goal)
TOKEN = "7000001:AAF-fan-out-bench-token"  # noqa: S105 - the fake's
PLAYER_ID = "90001"  # the Telegram user who recommends
TITLE = "Celeste"
FIRST_GROUP_ID = -100_7000_000_000
DELIVERY_SECONDS = 150.0
STOP_SECONDS = 20.0
POLL_SECONDS = 0.1
SEEDED_AT = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FanOut:
    """What the fake server saw, and what the database says, once every group had its post."""

    workers: int
    sends: list[Call]  # successful sends to the groups, in arrival order
    refused: Counter[int]  # HTTP status -> how many sends the fake refused
    per_group: Counter[int]
    notification_states: Counter[str]
    announcement_seconds: float

    @property
    def sustained_seconds(self) -> float:
        return self.sends[-1].time - self.sends[0].time

    @property
    def messages_per_second(self) -> float:
        """Consecutive sends are one interval apart: (n - 1) intervals from first to last."""
        return (len(self.sends) - 1) / self.sustained_seconds

    @property
    def busiest_second(self) -> int:
        """The most sends in any one second from a send: the fake's limit held if <= 30."""
        times = [call.time for call in self.sends]
        return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))

    @property
    def missing(self) -> int:
        return GROUPS - len(self.per_group)

    @property
    def sent_twice(self) -> int:
        return sum(1 for times in self.per_group.values() if times > 1)


def run() -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="qbf-") as name, EmbeddedRedis(Path(name)) as url:
        return build_result(asyncio.run(fan_out(Path(name), url)))


async def fan_out(directory: Path, redis_url: str) -> FanOut:
    database = directory / "questrya.db"
    database_url = f"sqlite+aiosqlite:///{database}"
    connection = connect(redis_url)
    async with FakeBotApi(token=TOKEN, max_messages_per_second=LIMIT_PER_SECOND) as api:
        groups = [api.group_chat(FIRST_GROUP_ID - n, f"Group {n}")["id"] for n in range(GROUPS)]
        announcement = await recommend_to_every_group(database_url, connection, groups)
        environment = worker_environment(directory, database_url, redis_url) | {
            f"{ENV_PREFIX}TELEGRAM_TOKEN": api.token,
            f"{ENV_PREFIX}TELEGRAM_API_URL": api.base_url,
        }
        with running_workers(environment, directory) as workers:
            delivered = lambda: len(_group_sends(api, groups)) >= GROUPS  # noqa: E731
            await wait_for("a post in every group", delivered, workers)
            await wait_for("every notification settled", lambda: _all_settled(database), workers)
        sends = _group_sends(api, groups)
        return FanOut(
            workers=WORKERS,
            sends=sends,
            refused=Counter(
                c.status or 0 for c in api.calls if c.method in SEND_METHODS and not c.ok
            ),
            per_group=Counter(call.params["chat_id"] for call in sends),
            notification_states=_notification_states(database),
            announcement_seconds=announcement,
        )


async def recommend_to_every_group(
    database_url: str, connection: redis.Redis, groups: Sequence[int]
) -> float:
    """The set-up (the player, their game looked up in the catalog, the 1,000 feeds they share
    to), then `/done Celeste 9` and its announcement by the groups service, which records the
    1,000 notifications and queues their deliveries; returns the announcement's seconds. The
    set-up queues no job; the feeds are bulk inserts."""
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)

    def quiet() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, RecordingJobQueue())

    try:
        player = await user_service.register(
            uow=quiet(), platform="telegram", external_id=PLAYER_ID, display_name="Rae"
        )
        game = await game_service.add_to_backlog(uow=quiet(), player_id=player.id, title=TITLE)
        await metadata_service.fetch_for_game(
            uow_factory=quiet, provider=OfflineCatalog(), game_id=game.id
        )
        async with engine.begin() as database:
            await database.execute(insert(GroupFeedRow), _feeds(groups))
            await database.execute(insert(GroupMemberRow), _members(groups, player.id))
        done = await game_service.mark_completed(
            uow=quiet(), player_id=player.id, title=TITLE, rating=9
        )
        assert done.completed_at is not None
        with timed() as announcement:
            await group_service.announce_completion(
                uow_factory=lambda: SqlUnitOfWork(sessions, RqJobQueue(connection)),
                game_id=done.id,
                completed_at=done.completed_at.isoformat(),
            )
    finally:
        await engine.dispose()
    return announcement.seconds


def _feeds(groups: Sequence[int]) -> list[dict[str, object]]:
    return [
        {"platform": "telegram", "chat_id": str(g), "feed_enabled": True, "changed_at": SEEDED_AT}
        for g in groups
    ]


def _members(groups: Sequence[int], player_id: int) -> list[dict[str, object]]:
    address = [ChatAddress("telegram", str(group)) for group in groups]
    return [
        {
            "platform": a.platform,
            "chat_id": a.chat_id,
            "player_id": player_id,
            "joined_at": SEEDED_AT,
            "shares": True,
        }
        for a in address
    ]


@contextlib.contextmanager
def running_workers(
    environment: dict[str, str], directory: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`questrya worker` processes (RQ's forking worker, as in production), each logging to
    the temp dir; a warm shutdown on the way out."""
    workers = []
    with contextlib.ExitStack() as logs:
        for number in range(WORKERS):
            log = logs.enter_context((directory / f"worker-{number}.log").open("wb"))
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "questrya.cli", "worker"],
                    cwd=REPO_ROOT,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        try:
            yield workers
        finally:
            _stop(workers)


def _stop(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


async def wait_for(
    what: str, condition: Callable[[], bool], workers: Sequence[subprocess.Popen[bytes]]
) -> None:
    """Poll `condition` (the fake server, on this event loop, answers meanwhile) until it
    holds."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while not condition():
        if any(worker.poll() is not None for worker in workers):
            raise RuntimeError(f"a worker exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


def _group_sends(api: FakeBotApi, groups: Sequence[int]) -> list[Call]:
    wanted = set(groups)
    return [
        call
        for call in api.calls
        if call.method in SEND_METHODS and call.ok and call.params.get("chat_id") in wanted
    ]


def _notification_states(database: Path) -> Counter[str]:
    """Notification states, straight from the SQLite file the workers write."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT state, count(*) FROM notifications GROUP BY state")
        return Counter(dict(rows))


def _all_settled(database: Path) -> bool:
    states = _notification_states(database)
    return states["sent"] + states["dropped"] >= GROUPS


def build_result(figures: FanOut) -> BenchResult:
    rate = figures.messages_per_second
    share = rate / LIMIT_PER_SECOND
    return BenchResult(
        title="Fan-out: one recommendation to 1,000 Telegram groups (30 messages/s enforced)",
        module="bench.bench_fanout",
        headers=[
            "groups",
            "workers",
            "posts delivered",
            "missing",
            "sent twice",
            "429s / other refusals",
            "first to last post (s)",
            "messages/s",
            "busiest second",
            "announcement (s)",
            "notifications",
        ],
        rows=[_row(figures)],
        ratios=[
            Ratio(
                "messages/s ÷ the 30/s limit",
                share,
                f">= {RATE_GOAL} with none missing and none twice",
                share >= RATE_GOAL and figures.missing == 0 and figures.sent_twice == 0,
            )
        ],
        notes=_notes(),
    )


def _row(figures: FanOut) -> list[str]:
    too_many = figures.refused.pop(429, 0)
    states = ", ".join(f"{count} {state}" for state, count in figures.notification_states.items())
    return [
        format_count(GROUPS),
        str(figures.workers),
        format_count(len(figures.sends)),
        str(figures.missing),
        str(figures.sent_twice),
        f"{too_many} / {sum(figures.refused.values())}",
        format_seconds(figures.sustained_seconds),
        f"{figures.messages_per_second:.1f}",
        str(figures.busiest_second),
        format_seconds(figures.announcement_seconds),
        states,
    ]


def _notes() -> list[str]:
    return [
        f"One player shares to {format_count(GROUPS)} group feeds (bulk inserts) and has"
        f" {TITLE} looked up in the bundled catalog (so the post carries its cover: a"
        " sendPhoto). `games_service.mark_completed` (rated 9), then"
        " `groups_service.announce_completion`, the announcement job's body, in this process:"
        " it records one notification per feed and queues each delivery on RQ (announcement"
        " column). Then"
        f" {WORKERS} `questrya worker` processes (RQ's forking worker, one work horse per job,"
        " as in production) deliver them with the Telegram sender. SQLite, private"
        " redis-server.",
        "The announcement runs before the workers start, not on one of them: on 2 cores it would"
        " take the CPU the deliveries need, and the figure would be the machine's, not the"
        " fan-out's.",
        f"The fake enforces {LIMIT_PER_SECOND} messages in any second and answers 429"
        " (retry_after 1) beyond. The sender keeps 29 a second (one under, for the network's"
        " jitter between a send's turn and its arrival), counted in Redis across the workers (a"
        " moving window), and waits out a 429, which costs that worker a second.",
        "messages/s = (posts − 1) ÷ (last post − first post), as the fake recorded them;"
        " busiest second = the most posts the fake accepted in one second. Missing and sent"
        " twice are counted per group from the fake's record; notifications from the database.",
        "The sender's limit of 20 a minute per group does not bind: each group gets one post.",
    ]


def main() -> None:
    print_result(run())


if __name__ == "__main__":
    main()
