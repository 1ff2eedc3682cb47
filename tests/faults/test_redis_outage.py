"""Redis down during `/add`: the game is saved at once and its lookup is queued once Redis is back.

Each test gets its own redis-server (an EmbeddedRedis in its temp dir) to stop and start, so the
session's server is untouched. `/add` goes through the same wiring as the console (`open_app`,
the chat router), in this process; the lookup then runs in a real `questrya worker`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue

from bots.chat import build_router
from bots.console.app import console_speaker
from questrya.bootstrap import App, open_app
from questrya.common.jobs import METADATA_QUEUE
from questrya.outbox.service import relay
from questrya.settings import load_settings
from questrya.workers.redis_server import EmbeddedRedis
from tests.e2e.conftest import run_questrya
from tests.faults.conftest import (
    HADES_FACTS_LINE,
    HADES_JOB_ID,
    PLAYER,
    added_reply,
    assert_told_once,
    query,
    run_burst_worker,
)

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


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
