"""The database fails after a command's commit, while its jobs are cleared from the outbox.

A command commits its data and its jobs' outbox records together, queues the jobs, then deletes
those records in a second transaction. That second write can fail on its own: the server
restarting at that moment, or on SQLite the write lock not coming within the busy timeout
under load. A trigger that refuses deletes from the outbox stands in for that failure here,
deterministically. The command has then succeeded (its game is saved and its job queued) and
must say so; the records left behind are the relay's to clear, and nothing runs twice.
"""

from __future__ import annotations

import contextlib
import sqlite3
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
async def app(tmp_path: Path, redis_url: str) -> AsyncIterator[App]:
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    async with open_app(settings, redis_url) as opened:
        yield opened


@contextlib.contextmanager
def outbox_deletes_refused(data_dir: Path) -> Iterator[None]:
    with contextlib.closing(sqlite3.connect(data_dir / "questrya.db")) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_outbox_deletes BEFORE DELETE ON job_outbox"
            " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
        connection.commit()
        try:
            yield
        finally:
            connection.execute("DROP TRIGGER refuse_outbox_deletes")
            connection.commit()


async def test_an_add_whose_outbox_clean_up_fails_after_the_commit_still_succeeds_once(
    tmp_path: Path, redis_url: str, app: App
) -> None:
    with outbox_deletes_refused(tmp_path):
        reply = await build_router(app.uow_factory).handle_text(
            console_speaker(PLAYER, None), "/add Hades"
        )

        assert reply.text == added_reply("Hades")
        assert query(tmp_path, "SELECT title FROM games") == [("Hades",)]
        assert Queue(METADATA_QUEUE, connection=app.connection).job_ids == [HADES_JOB_ID]
        assert query(tmp_path, "SELECT job_id FROM job_outbox") == [(HADES_JOB_ID,)]

    # The relay finds the job queued already: it clears the record and queues nothing twice.
    assert await relay(uow=app.uow_factory(), job_queue=app.job_queue, grace=timedelta(0)) == 1
    assert Queue(METADATA_QUEUE, connection=app.connection).job_ids == [HADES_JOB_ID]
    await run_burst_worker(tmp_path, redis_url)
    assert_told_once(tmp_path, app.connection, first_line=HADES_FACTS_LINE)
