"""SqlFactsRepository against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from questrya.metadata.domain import GameFacts
from questrya.metadata.repository import SqlFactsRepository
from questrya.orm.models import ScoreChangeRow

SessionFactory = async_sessionmaker[AsyncSession]
NIGHT = date(2025, 6, 1)
NEXT_NIGHT = date(2025, 6, 2)


@asynccontextmanager
async def facts_in(session_factory: SessionFactory) -> AsyncIterator[SqlFactsRepository]:
    """A repository on a fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield SqlFactsRepository(session)
        await session.commit()


def some_facts(source_id: str = "hades", **fields: Any) -> GameFacts:
    return GameFacts(**({"source": "rawg", "source_id": source_id, "title": "Hades"} | fields))


async def store(session_factory: SessionFactory, *many: GameFacts) -> list[int]:
    async with facts_in(session_factory) as repository:
        return [await repository.upsert(facts) for facts in many]


async def test_get_round_trips_every_field(session_factory: SessionFactory) -> None:
    facts = some_facts(
        title="Pokémon Legends: Arceus",
        release_date=date(2022, 1, 28),
        platforms=("Switch",),
        genres=("RPG", "Action"),
        cover_url="https://media.example/arceus.jpg",
        critic_score=83,
        hours_to_beat=22.5,
        source_url="https://rawg.example/games/arceus",
        aliases=("PLA",),
    )
    [facts_id] = await store(session_factory, facts)

    async with facts_in(session_factory) as repository:
        loaded = await repository.get(facts_id)

    assert loaded == facts
    assert loaded is not None
    assert (loaded.platforms, loaded.genres) == (("Switch",), ("RPG", "Action"))
    assert loaded.aliases == ()  # not stored


async def test_unknown_fields_round_trip_as_none(session_factory: SessionFactory) -> None:
    [facts_id] = await store(session_factory, some_facts())

    async with facts_in(session_factory) as repository:
        loaded = await repository.get(facts_id)

    assert loaded == some_facts()
    assert loaded is not None
    assert (loaded.release_date, loaded.cover_url, loaded.critic_score) == (None, None, None)
    assert (loaded.hours_to_beat, loaded.source_url) == (None, None)
    assert (loaded.platforms, loaded.genres) == ((), ())


async def test_get_unknown_id_is_none(session_factory: SessionFactory) -> None:
    async with facts_in(session_factory) as repository:
        assert await repository.get(404) is None


async def test_upserting_the_same_game_twice_updates_it_in_place(
    session_factory: SessionFactory,
) -> None:
    [first] = await store(session_factory, some_facts(critic_score=90, genres=("Roguelike",)))
    newer = some_facts(title="Hades", critic_score=93, platforms=("PC", "Switch"))

    [second] = await store(session_factory, newer)

    assert second == first
    async with facts_in(session_factory) as repository:
        assert await repository.get(first) == newer


async def test_the_same_source_id_of_two_sources_are_two_games(
    session_factory: SessionFactory,
) -> None:
    rawg, igdb = await store(
        session_factory, some_facts("1942"), some_facts("1942", source="igdb", title="Other")
    )

    assert rawg != igdb


async def test_upsert_then_get_in_one_transaction_sees_the_update(
    session_factory: SessionFactory,
) -> None:
    async with facts_in(session_factory) as repository:
        facts_id = await repository.upsert(some_facts(critic_score=90))
        assert (await repository.get(facts_id)) == some_facts(critic_score=90)
        await repository.upsert(some_facts(critic_score=95))
        reloaded = await repository.get(facts_id)

    assert reloaded is not None
    assert reloaded.critic_score == 95


async def test_concurrent_upserts_of_one_game_keep_one_row(
    session_factory: SessionFactory,
) -> None:
    ids = await asyncio.gather(
        *(store(session_factory, some_facts(critic_score=score)) for score in range(80, 85))
    )

    assert len({facts_id for [facts_id] in ids}) == 1


async def test_list_for_refresh_walks_one_source_in_id_order_by_batches(
    session_factory: SessionFactory,
) -> None:
    ids = await store(session_factory, *(some_facts(f"game-{n}") for n in range(5)))
    await store(session_factory, some_facts("elsewhere", source="igdb"))

    async with facts_in(session_factory) as repository:
        first = await repository.list_for_refresh(
            source="rawg", not_refreshed_on=NIGHT, after_id=0, limit=2
        )
        second = await repository.list_for_refresh(
            source="rawg", not_refreshed_on=NIGHT, after_id=first[-1][0], limit=2
        )
        last = await repository.list_for_refresh(
            source="rawg", not_refreshed_on=NIGHT, after_id=second[-1][0], limit=2
        )
        beyond = await repository.list_for_refresh(
            source="rawg", not_refreshed_on=NIGHT, after_id=last[-1][0], limit=2
        )

    assert first + second + last == [(facts_id, f"game-{n}") for n, facts_id in enumerate(ids)]
    assert [len(first), len(second), len(last), len(beyond)] == [2, 2, 1, 0]


async def test_list_for_refresh_skips_what_was_refreshed_that_night(
    session_factory: SessionFactory,
) -> None:
    never, tonight, last_night = await store(
        session_factory, some_facts("never"), some_facts("tonight"), some_facts("last-night")
    )
    async with facts_in(session_factory) as repository:
        await repository.update_scores({last_night: 70}, refreshed_on=NIGHT)
        await repository.update_scores({tonight: 80}, refreshed_on=NEXT_NIGHT)

    async with facts_in(session_factory) as repository:
        due = await repository.list_for_refresh(
            source="rawg", not_refreshed_on=NEXT_NIGHT, after_id=0, limit=10
        )

    assert due == [(never, "never"), (last_night, "last-night")]


async def test_update_scores_marks_the_batch_at_once_and_writes_only_changed_scores(
    session_factory: SessionFactory, engine: AsyncEngine
) -> None:
    scored, cleared, same, untouched = await store(
        session_factory,
        some_facts("scored", critic_score=50),
        some_facts("cleared", critic_score=60),
        some_facts("same", critic_score=65),
        some_facts("untouched", critic_score=70),
    )
    updates = record_updates(engine)

    async with facts_in(session_factory) as repository:
        await repository.update_scores({scored: 91, cleared: None, same: 65}, refreshed_on=NIGHT)

    # One statement marks the batch refreshed; one executemany writes the two changed scores.
    assert [(count, many) for _, count, many in updates] == [(1, False), (2, True)]
    async with facts_in(session_factory) as repository:
        scores = [(await repository.get(n)) for n in (scored, cleared, untouched)]
        due = await repository.list_for_refresh(
            source="rawg", not_refreshed_on=NIGHT, after_id=0, limit=10
        )
    assert [facts.critic_score for facts in scores if facts] == [91, None, 70]
    assert due == [(untouched, "untouched")]


async def test_update_scores_records_what_changed_and_counts_what_is_due(
    session_factory: SessionFactory,
) -> None:
    raised, same, gone = await store(
        session_factory,
        some_facts("raised", critic_score=80),
        some_facts("same", critic_score=70),
        some_facts("gone", critic_score=60),
    )

    async with facts_in(session_factory) as repository:
        assert await repository.count_for_refresh(source="rawg", not_refreshed_on=NIGHT) == 3
        changed = await repository.update_scores(
            {raised: 85, same: 70, gone: None}, refreshed_on=NIGHT
        )
        assert await repository.count_for_refresh(source="rawg", not_refreshed_on=NIGHT) == 0

    assert changed == 2
    async with session_factory() as session:
        rows = await session.execute(
            select(ScoreChangeRow.facts_id, ScoreChangeRow.old_score, ScoreChangeRow.new_score)
            .where(ScoreChangeRow.refreshed_on == NIGHT)
            .order_by(ScoreChangeRow.facts_id)
        )
        assert [tuple(row) for row in rows] == [(raised, 80, 85), (gone, 60, None)]


async def test_update_scores_with_nothing_to_update_does_nothing(
    session_factory: SessionFactory, engine: AsyncEngine
) -> None:
    updates = record_updates(engine)

    async with facts_in(session_factory) as repository:
        await repository.update_scores({}, refreshed_on=NIGHT)

    assert updates == []


def record_updates(engine: AsyncEngine) -> list[tuple[str, int, bool]]:
    """(statement, parameter sets, executemany) of each UPDATE the engine sends from now on."""
    statements: list[tuple[str, int, bool]] = []

    def before_cursor_execute(*args: Any) -> None:
        _connection, _cursor, statement, parameters, _context, executemany = args
        if statement.lstrip().upper().startswith("UPDATE"):
            count = len(parameters) if executemany else 1
            statements.append((statement, count, executemany))

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    return statements
