"""The worker's engine: built before the fork, released by each job as its process requires."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from questrya.orm.database import upgrade_database
from questrya.workers import runtime
from tests.integration.conftest import POSTGRES_URL_VARIABLE


async def use_and_release(url: str) -> int:
    """Run a statement as a job would, release the engine, and say how many connections the
    engine still keeps open."""
    engine = runtime.worker_engine(url)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    await runtime.release_engine(url)
    return engine.pool.checkedin()


def in_forked_child(url: str) -> int:
    """`use_and_release` in a child forked from this process, as RQ forks a work horse."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports through the pipe
        try:
            os.write(write_end, str(asyncio.run(use_and_release(url))).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        answer = report.read()
    os.waitpid(child, 0)
    return int(answer)


async def test_the_process_that_built_the_engine_closes_its_connections(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'questrya.db'}"
    await upgrade_database(url)

    assert await use_and_release(url) == 0


def test_a_forked_work_horse_leaves_its_sqlite_connection_to_the_os(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'questrya.db'}"
    asyncio.run(upgrade_database(url))
    runtime.worker_engine(url)  # built here, before the fork, as `questrya worker` does

    assert in_forked_child(url) == 1


@pytest.mark.postgres
def test_a_forked_work_horse_says_goodbye_to_postgresql(postgres_url: str | None) -> None:
    if postgres_url is None:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    runtime.worker_engine(postgres_url)  # built here, before the fork

    assert in_forked_child(postgres_url) == 0
