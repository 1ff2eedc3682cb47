"""The router's fuzzing again, on the real databases: what the fakes cannot show (a value
PostgreSQL refuses, a driver's error) ends in a reply too, and a refused command changes no row.

"/play #99999999999" failed only here: PostgreSQL refuses an id its INTEGER cannot hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bots.chat import ChatRouter, build_router
from bots.messages import Reply
from bots.parsing import Arguments
from questrya.orm.database import create_engine, create_session_factory
from questrya.orm.models import Base
from questrya.unit_of_work import SqlUnitOfWork
from tests.fuzz_inputs import (
    ALICE,
    ALICE_IN_FRIENDS,
    COMMANDS,
    MAX_REFUSAL_LENGTH,
    nasty_text,
    option_value,
)
from tests.integration.conftest import RecordingJobQueue

EXAMPLES = 60  # each runs its command on the database twice over: keep the suite quick
SEED_LINES = ("/start", "/add Hades", "/add Celeste", "/play Celeste", "/wish Hollow Knight")
# What a command may touch without being obeyed: the speaker's account and group presence.
UNWATCHED_TABLES = {"players", "accounts", "group_members"}
WATCHED_TABLES = [t for t in Base.metadata.sorted_tables if t.name not in UNWATCHED_TABLES]


class StoredWorld:
    """Alice's seeded backlog on a real database, with the router over it, on one loop."""

    def __init__(self, url: str) -> None:
        self._runner = asyncio.Runner()
        self._engine = create_engine(url)
        self._sessions = create_session_factory(self._engine)
        self.jobs = RecordingJobQueue()
        self.router: ChatRouter = build_router(lambda: SqlUnitOfWork(self._sessions, self.jobs))
        for speaker in (ALICE, ALICE_IN_FRIENDS):
            for line in SEED_LINES:
                self.run(self.router.handle_text(speaker, line))

    def run(self, coroutine: Any) -> Any:
        return self._runner.run(coroutine)

    def rows(self) -> str:
        """Every watched row and every queued job, as text."""
        return repr([self.run(self._watched_rows()), self.jobs.jobs])

    async def _watched_rows(self) -> list[list[tuple[Any, ...]]]:
        async with self._engine.connect() as connection:
            return [
                [tuple(row) for row in await connection.execute(_ordered(table))]
                for table in WATCHED_TABLES
            ]

    def check(self, reply: Reply, before: str) -> None:
        assert reply.text.strip()
        if reply.refused:
            assert self.rows() == before, reply.text
            assert "\n" not in reply.text.strip() or reply.choices, reply.text
            assert len(reply.text) <= MAX_REFUSAL_LENGTH, reply.text

    def close(self) -> None:
        self.run(self._engine.dispose())
        self._runner.close()


def _ordered(table: Any) -> Any:
    return select(table).order_by(*table.primary_key.columns)


@pytest.fixture
def world(database_url: str) -> Iterator[StoredWorld]:
    stored = StoredWorld(database_url)
    yield stored
    stored.close()


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ_SETTINGS
@given(name=st.sampled_from(COMMANDS), rest=nasty_text, in_group=st.booleans())
@example(name="play", rest="#99999999999", in_group=False)
@example(name="done", rest="#3000000000 9", in_group=True)
def test_any_command_text_on_the_database_gets_a_reply(
    world: StoredWorld, name: str, rest: str, in_group: bool
) -> None:
    speaker = ALICE_IN_FRIENDS if in_group else ALICE
    before = world.rows()
    world.check(world.run(world.router.handle_text(speaker, f"/{name} {rest}")), before)


@FUZZ_SETTINGS
@given(
    name=st.sampled_from(COMMANDS),
    title=option_value,
    rating=option_value,
    page=option_value,
)
@example(name="backlog", title=None, rating=None, page=2**53)
def test_typed_options_on_the_database_get_a_reply(
    world: StoredWorld, name: str, title: Any, rating: Any, page: Any
) -> None:
    arguments = Arguments(title=title, rating=rating, page=page)
    before = world.rows()
    world.check(world.run(world.router.handle_command(ALICE, name, arguments)), before)
