"""The schema: migrations, and how the engine sets up each connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questrya.orm.database import create_engine, upgrade_database
from questrya.orm.models import Base, PlayerRow
from tests.integration.conftest import sqlite_url

HEAD = "0005"


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def schema_differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []


async def test_upgrading_again_changes_nothing(database_url: str, engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(PlayerRow))

    await upgrade_database(database_url)
    await upgrade_database(database_url)

    async with engine.connect() as connection:
        assert await connection.run_sync(current_revision) == HEAD
        assert (await connection.scalars(select(PlayerRow.id))).all() == [1]


async def test_upgrade_creates_a_new_sqlite_database_and_its_directory(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "not" / "yet" / "there")

    await upgrade_database(url)

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revision) == HEAD
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("busy_timeout", 5000), ("foreign_keys", 1), ("synchronous", 1)],
)
async def test_every_sqlite_connection_is_set_up(
    tmp_path: Path, pragma: str, expected: object
) -> None:
    engine = create_engine(sqlite_url(tmp_path))
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql(f"PRAGMA {pragma}")
            assert result.scalar() == expected
    finally:
        await engine.dispose()
