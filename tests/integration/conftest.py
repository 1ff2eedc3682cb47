"""Fixtures for tests against real databases: a fresh SQLite file, and PostgreSQL when
QUESTRYA_TEST_POSTGRES_URL names a server (a private database is made for the session)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from questrya.common.jobs import JobQueueUnavailable, JobRequest
from questrya.orm.database import create_engine, create_session_factory, upgrade_database
from questrya.orm.models import Base
from questrya.unit_of_work import SqlUnitOfWork
from questrya.users.domain import AccountKey, Player
from questrya.users.repository import SqlPlayerRepository

POSTGRES_URL_VARIABLE = "QUESTRYA_TEST_POSTGRES_URL"


class RecordingJobQueue:
    """Remembers every job it is asked to queue; `unavailable` makes it refuse like Redis down."""

    def __init__(self) -> None:
        self.jobs: list[JobRequest] = []
        self.unavailable = False

    def enqueue(self, job: JobRequest) -> None:
        if self.unavailable:
            raise JobQueueUnavailable("redis is down")
        self.jobs.append(job)


def sqlite_url(directory: Path) -> str:
    """The aiosqlite URL of a database file in `directory`."""
    return f"sqlite+aiosqlite:///{directory / 'questrya.db'}"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_database(server_url: str) -> str:
    name = f"questrya_test_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    await upgrade_database(url)
    return url


async def _drop_database(server_url: str, url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await connection.close()


async def _empty_tables(url: str) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A private, migrated PostgreSQL database for this test session, or None if unset."""
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        yield None
        return
    # Sync fixture with its own loop: it outlives every test's event loop.
    url = asyncio.run(_create_database(server_url))
    yield url
    asyncio.run(_drop_database(server_url, url))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> str:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        await upgrade_database(url)
        return url
    if postgres_url is None:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    await _empty_tables(postgres_url)
    return postgres_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
def job_queue() -> RecordingJobQueue:
    return RecordingJobQueue()


@pytest.fixture
def uow(
    session_factory: async_sessionmaker[AsyncSession], job_queue: RecordingJobQueue
) -> SqlUnitOfWork:
    return SqlUnitOfWork(session_factory, job_queue)


async def _add_player(session_factory: async_sessionmaker[AsyncSession], name: str) -> int:
    async with session_factory() as session:
        player = await SqlPlayerRepository(session).add(
            Player.first_seen(AccountKey("console", name), name)
        )
        await session.commit()
    assert player.id is not None
    return player.id


@pytest.fixture
async def player_id(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """A stored player to own games."""
    return await _add_player(session_factory, "ada")


@pytest.fixture
async def other_player_id(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """A second stored player, whose games must never show up in the first one's lists."""
    return await _add_player(session_factory, "grace")
