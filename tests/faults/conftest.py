"""Helpers for fault tests: a fake RAWG, the real `questrya` commands, and the final ledger.

Each fault test ends by reading what the player was told, straight from the database and the
console inbox in Redis, so "nothing lost, nothing sent twice" is checked the same way everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue
from rq.registry import FailedJobRegistry

from questrya.common.jobs import ALL_QUEUES
from questrya.notifications.senders.console import INBOX_KEY
from tests.e2e.conftest import run_questrya
from tests.fakes_servers.rawg import API_KEY, FakeRawg

PLAYER = "alice"
PLAYER_CHAT = f"user:{PLAYER}"
HADES_JOB_ID = "fetch-metadata-1"
HADES_FACTS_LINE = "Hades (2020) · PC"
RAWG_SEARCH_PATH = "/api/games"
POLL_SECONDS = 0.05


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
    result = await asyncio.to_thread(
        run_questrya, data_dir, "worker", "--burst", QUESTRYA_REDIS_URL=redis_url, **settings
    )
    return result.stderr


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
