"""SqlGameRepository against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, delete, event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from questrya.common.errors import AlreadyInBacklog, GameNotFound
from questrya.common.values import ChatAddress, GameRating, GameStatus, Platform, Title
from questrya.games.domain import Game, LookupState
from questrya.games.repository import SqlGameRepository
from questrya.metadata.domain import GameFacts
from questrya.metadata.repository import SqlFactsRepository
from questrya.orm.database import (
    alembic_config,
    create_engine,
    create_session_factory,
    upgrade_database,
)
from questrya.orm.models import GameFactsRow, GameRow
from tests.integration.conftest import sqlite_url

SessionFactory = async_sessionmaker[AsyncSession]
ADDED = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
ALL_STATUSES = tuple(GameStatus)


@asynccontextmanager
async def games_in(session_factory: SessionFactory) -> AsyncIterator[SqlGameRepository]:
    """A repository on a fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield SqlGameRepository(session)
        await session.commit()


def a_game(player_id: int, title: str, **fields: Any) -> Game:
    return Game(player_id=player_id, title=Title(title), **({"added_at": ADDED} | fields))


async def store(session_factory: SessionFactory, *games: Game) -> list[Game]:
    async with games_in(session_factory) as repository:
        return [await repository.add(game) for game in games]


async def test_add_then_get_round_trips_every_field(
    session_factory: SessionFactory, player_id: int
) -> None:
    paris = timezone(timedelta(hours=2))
    game = a_game(
        player_id,
        "Pokémon: Red",
        added_at=datetime(2025, 5, 1, 20, 0, 0, 250, tzinfo=paris),
        platform=Platform.SWITCH,
        status=GameStatus.COMPLETED,
        rating=GameRating(9),
        started_at=datetime(2025, 5, 2, 8, 0, tzinfo=UTC),
        completed_at=datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
        added_in=ChatAddress(platform="telegram", chat_id="-1001234567890"),
    )
    [stored] = await store(session_factory, game)
    assert stored.id is not None

    async with games_in(session_factory) as repository:
        loaded = await repository.get(stored.id)

    assert loaded is not None
    assert (loaded.id, loaded.player_id) == (stored.id, player_id)
    assert loaded.title.text == "Pokémon: Red"
    assert (loaded.platform, loaded.status, loaded.rating) == (
        Platform.SWITCH,
        GameStatus.COMPLETED,
        GameRating(9),
    )
    assert loaded.added_in == ChatAddress(platform="telegram", chat_id="-1001234567890")
    assert loaded.added_at == game.added_at
    assert loaded.added_at.tzinfo is UTC
    assert loaded.started_at == game.started_at
    assert loaded.completed_at == game.completed_at


async def test_optional_fields_round_trip_as_none(
    session_factory: SessionFactory, player_id: int
) -> None:
    [stored] = await store(session_factory, a_game(player_id, "Hades"))
    assert stored.id is not None

    async with games_in(session_factory) as repository:
        loaded = await repository.get(stored.id)

    assert loaded is not None
    assert (loaded.platform, loaded.rating, loaded.added_in) == (None, None, None)
    assert (loaded.started_at, loaded.completed_at) == (None, None)
    assert loaded.status is GameStatus.BACKLOG


async def test_get_unknown_id_is_none(session_factory: SessionFactory) -> None:
    async with games_in(session_factory) as repository:
        assert await repository.get(404) is None


@pytest.mark.parametrize("game_id", [0, -1, 2**31, 10**18, 2**63])
async def test_get_an_id_no_column_holds_is_none(
    session_factory: SessionFactory, game_id: int
) -> None:
    async with games_in(session_factory) as repository:
        assert await repository.get(game_id) is None


async def test_get_by_title_matches_the_folded_title_of_that_player_only(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    await store(session_factory, a_game(player_id, "Pokémon: Red"))

    async with games_in(session_factory) as repository:
        mine = await repository.get_by_title(player_id, Title("pokemon red").folded)
        theirs = await repository.get_by_title(other_player_id, Title("pokemon red").folded)

    assert mine is not None
    assert mine.title.text == "Pokémon: Red"
    assert theirs is None


async def test_duplicate_folded_title_raises_and_the_transaction_goes_on(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(session_factory, a_game(player_id, "Hades"))

    async with games_in(session_factory) as repository:
        with pytest.raises(AlreadyInBacklog) as raised:
            await repository.add(a_game(player_id, "HADES!"))
        await repository.add(a_game(player_id, "Celeste"))

    assert raised.value.title == "Hades"
    async with games_in(session_factory) as repository:
        assert sorted((await repository.list_titles(player_id)).values()) == ["Celeste", "Hades"]


async def test_duplicate_within_one_transaction_keeps_the_first(
    session_factory: SessionFactory, player_id: int
) -> None:
    async with games_in(session_factory) as repository:
        await repository.add(a_game(player_id, "Celeste"))
        with pytest.raises(AlreadyInBacklog):
            await repository.add(a_game(player_id, "celeste"))

    async with games_in(session_factory) as repository:
        assert list((await repository.list_titles(player_id)).values()) == ["Celeste"]


async def test_the_same_title_may_belong_to_two_players(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    mine, theirs = await store(
        session_factory, a_game(player_id, "Hades"), a_game(other_player_id, "Hades")
    )

    assert mine.id != theirs.id


async def test_a_game_of_an_unknown_player_is_refused(session_factory: SessionFactory) -> None:
    with pytest.raises(IntegrityError):
        await store(session_factory, a_game(999, "Hades"))


async def test_list_backlog_orders_by_status_then_by_when_added(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(
        session_factory,
        a_game(player_id, "Wished", status=GameStatus.WISHLIST),
        a_game(player_id, "Backlog one"),
        a_game(player_id, "Done", status=GameStatus.COMPLETED),
        a_game(player_id, "Playing", status=GameStatus.PLAYING),
        a_game(player_id, "Dropped", status=GameStatus.ABANDONED),
        a_game(player_id, "Paused", status=GameStatus.PAUSED),
        a_game(player_id, "Backlog two"),
    )

    async with games_in(session_factory) as repository:
        page = await repository.list_backlog(player_id, ALL_STATUSES, page=1, page_size=10)

    assert [game.title.text for game in page.games] == [
        "Playing",
        "Paused",
        "Backlog one",
        "Backlog two",
        "Wished",
        "Done",
        "Dropped",
    ]
    assert (page.number, page.has_next) == (1, False)


async def test_list_backlog_keeps_only_the_asked_statuses(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(
        session_factory,
        a_game(player_id, "Playing", status=GameStatus.PLAYING),
        a_game(player_id, "Paused", status=GameStatus.PAUSED),
        a_game(player_id, "Backlog"),
        a_game(player_id, "Done", status=GameStatus.COMPLETED),
    )

    async with games_in(session_factory) as repository:
        open_games = await repository.list_backlog(
            player_id, {GameStatus.BACKLOG, GameStatus.PLAYING}, page=1, page_size=10
        )
        done = await repository.list_backlog(player_id, [GameStatus.COMPLETED], 1, 10)
        nothing = await repository.list_backlog(player_id, [], 1, 10)

    assert [game.title.text for game in open_games.games] == ["Playing", "Backlog"]
    assert [game.title.text for game in done.games] == ["Done"]
    assert nothing.games == []


async def test_list_backlog_pages_through_a_long_list(
    session_factory: SessionFactory, player_id: int
) -> None:
    stored = await store(session_factory, *(a_game(player_id, f"Game {n}") for n in range(25)))

    async with games_in(session_factory) as repository:
        pages = [await repository.list_backlog(player_id, ALL_STATUSES, n, 10) for n in range(1, 5)]

    assert [len(page.games) for page in pages] == [10, 10, 5, 0]
    assert [page.has_next for page in pages] == [True, True, False, False]
    assert [page.number for page in pages] == [1, 2, 3, 4]
    listed = [game.id for page in pages for game in page.games]
    assert listed == [game.id for game in stored]


async def test_list_backlog_page_exactly_full_has_no_next(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(session_factory, *(a_game(player_id, f"Game {n}") for n in range(10)))

    async with games_in(session_factory) as repository:
        page = await repository.list_backlog(player_id, ALL_STATUSES, 1, 10)

    assert (len(page.games), page.has_next) == (10, False)


async def test_list_backlog_refuses_page_zero(
    session_factory: SessionFactory, player_id: int
) -> None:
    async with games_in(session_factory) as repository:
        with pytest.raises(ValueError, match="count from 1"):
            await repository.list_backlog(player_id, ALL_STATUSES, 0, 10)


async def test_other_players_games_never_show(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    await store(
        session_factory,
        a_game(player_id, "Mine", status=GameStatus.COMPLETED, rating=GameRating(8)),
        a_game(other_player_id, "Theirs", status=GameStatus.COMPLETED, rating=GameRating(2)),
        a_game(other_player_id, "Also theirs"),
    )

    async with games_in(session_factory) as repository:
        page = await repository.list_backlog(player_id, ALL_STATUSES, 1, 10)
        titles = await repository.list_titles(player_id)
        counts = await repository.count_by_status(player_id)
        summary = await repository.rating_summary(player_id)

    assert [game.title.text for game in page.games] == ["Mine"]
    assert list(titles.values()) == ["Mine"]
    assert counts == {GameStatus.COMPLETED: 1}
    assert summary == (1, 8.0)


async def test_list_titles_maps_ids_to_titles(
    session_factory: SessionFactory, player_id: int
) -> None:
    hades, celeste = await store(
        session_factory, a_game(player_id, "Hades"), a_game(player_id, "Celeste")
    )

    async with games_in(session_factory) as repository:
        titles = await repository.list_titles(player_id)

    assert titles == {hades.id: "Hades", celeste.id: "Celeste"}


async def test_count_by_status_leaves_out_empty_statuses(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(
        session_factory,
        a_game(player_id, "A"),
        a_game(player_id, "B"),
        a_game(player_id, "C", status=GameStatus.PLAYING),
    )

    async with games_in(session_factory) as repository:
        counts = await repository.count_by_status(player_id)

    assert counts == {GameStatus.BACKLOG: 2, GameStatus.PLAYING: 1}


async def test_rating_summary_counts_and_averages_rated_games(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(
        session_factory,
        a_game(player_id, "A", status=GameStatus.COMPLETED, rating=GameRating(6)),
        a_game(player_id, "B", status=GameStatus.COMPLETED, rating=GameRating(9)),
        a_game(player_id, "C", status=GameStatus.COMPLETED),
    )

    async with games_in(session_factory) as repository:
        rated, average = await repository.rating_summary(player_id)

    assert (rated, average) == (2, 7.5)
    assert isinstance(average, float)


async def test_rating_summary_without_ratings(
    session_factory: SessionFactory, player_id: int
) -> None:
    await store(session_factory, a_game(player_id, "A"))

    async with games_in(session_factory) as repository:
        assert await repository.rating_summary(player_id) == (0, None)


async def test_count_completed_since_includes_the_boundary(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    new_year = datetime(2025, 1, 1, tzinfo=UTC)
    done = GameStatus.COMPLETED
    await store(
        session_factory,
        a_game(player_id, "Last year", status=done, completed_at=new_year - timedelta(seconds=1)),
        a_game(player_id, "On the dot", status=done, completed_at=new_year),
        a_game(player_id, "Spring", status=done, completed_at=datetime(2025, 4, 1, tzinfo=UTC)),
        a_game(player_id, "Never finished"),
        a_game(other_player_id, "Theirs", status=done, completed_at=new_year),
    )
    # The same instant written in another zone is the same boundary.
    new_year_in_tokyo = new_year.astimezone(timezone(timedelta(hours=9)))

    async with games_in(session_factory) as repository:
        assert await repository.count_completed_since(player_id, new_year) == 2
        assert await repository.count_completed_since(player_id, new_year_in_tokyo) == 2


async def test_save_writes_back_every_change(
    session_factory: SessionFactory, player_id: int
) -> None:
    [game] = await store(session_factory, a_game(player_id, "Hades"))
    assert game.id is not None
    finished = datetime(2025, 4, 2, 18, 0, tzinfo=UTC)

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game.id)
        assert loaded is not None
        loaded.start_playing(on=ADDED)
        loaded.mark_completed(on=finished, rating=GameRating(10))
        loaded.platform = Platform.PC
        await repository.save(loaded)

    async with games_in(session_factory) as repository:
        saved = await repository.get(game.id)

    assert saved is not None
    assert (saved.status, saved.rating, saved.platform) == (
        GameStatus.COMPLETED,
        GameRating(10),
        Platform.PC,
    )
    assert (saved.started_at, saved.completed_at) == (ADDED, finished)


async def test_save_of_a_game_just_read_updates_it_without_reading_it_again(
    engine: AsyncEngine, session_factory: SessionFactory, player_id: int
) -> None:
    game_id = await stored_game_id(session_factory, player_id)
    statements = recorded_statements(engine)

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game_id)
        assert loaded is not None
        loaded.start_playing(on=ADDED)
        await repository.save(loaded)

    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, selects
    assert any(sql.lstrip().upper().startswith("UPDATE GAMES") for sql in statements)


async def test_save_sets_only_the_columns_that_changed(
    engine: AsyncEngine, session_factory: SessionFactory, player_id: int
) -> None:
    game_id = await stored_game_id(session_factory, player_id)
    statements = recorded_statements(engine)

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game_id)
        assert loaded is not None
        loaded.mark_completed(on=ADDED, rating=GameRating(9))
        await repository.save(loaded)
        await repository.save(loaded)  # nothing changed since: no statement

    [set_clause] = [
        sql.upper().partition(" SET ")[2].partition(" WHERE ")[0]
        for sql in statements
        if sql.lstrip().upper().startswith("UPDATE GAMES")
    ]
    assert sorted(part.split("=")[0].strip() for part in set_clause.split(",")) == [
        "COMPLETED_AT",
        "RATING",
        "STATUS",
        "STATUS_RANK",
    ]


async def test_save_keeps_what_another_transaction_wrote_after_the_read(
    database_url: str, session_factory: SessionFactory, player_id: int
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("a SQLite transaction holds the write lock from its first read")
    facts_id = await store_facts(session_factory)
    [game] = await store(session_factory, a_game(player_id, "hades"))
    assert game.id is not None

    async with games_in(session_factory) as player:
        completing = await player.get(game.id)
        assert completing is not None
        async with games_in(session_factory) as worker:  # the lookup lands meanwhile
            identified = await worker.get(game.id)
            assert identified is not None
            identified.identify(facts_id=facts_id)
            await worker.save(identified)
        completing.mark_completed(on=ADDED, rating=GameRating(9))
        await player.save(completing)

    async with games_in(session_factory) as repository:
        saved = await repository.get(game.id)
    assert saved is not None
    assert (saved.status, saved.facts_id, saved.lookup) == (
        GameStatus.COMPLETED,
        facts_id,
        LookupState.FOUND,
    )


async def stored_game_id(session_factory: SessionFactory, player_id: int) -> int:
    [game] = await store(session_factory, a_game(player_id, "Hades"))
    assert game.id is not None
    return game.id


def recorded_statements(engine: AsyncEngine) -> list[str]:
    """Every SQL statement the engine sends from now on, as it is sent."""
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", statements_into(statements))
    return statements


def statements_into(statements: list[str]) -> Callable[..., None]:
    def note(*args: Any) -> None:
        statements.append(args[2])

    return note


async def test_save_moves_the_game_in_the_list_order(
    session_factory: SessionFactory, player_id: int
) -> None:
    _, second = await store(
        session_factory, a_game(player_id, "First"), a_game(player_id, "Second")
    )
    second.start_playing(on=ADDED)

    async with games_in(session_factory) as repository:
        await repository.save(second)
        page = await repository.list_backlog(player_id, ALL_STATUSES, 1, 10)

    assert [game.title.text for game in page.games] == ["Second", "First"]


async def test_save_of_a_removed_game_says_it_is_gone(
    session_factory: SessionFactory, player_id: int
) -> None:
    [game] = await store(session_factory, a_game(player_id, "Hades"))
    async with games_in(session_factory) as repository:
        await repository.remove(game)

    async with games_in(session_factory) as repository:
        with pytest.raises(GameNotFound):
            await repository.save(game)


async def test_remove_deletes_the_game_and_frees_its_title(
    session_factory: SessionFactory, player_id: int
) -> None:
    hades, celeste = await store(
        session_factory, a_game(player_id, "Hades"), a_game(player_id, "Celeste")
    )
    assert hades.id is not None

    async with games_in(session_factory) as repository:
        await repository.remove(hades)

    async with games_in(session_factory) as repository:
        assert await repository.get(hades.id) is None
        assert list((await repository.list_titles(player_id)).values()) == ["Celeste"]
        again = await repository.add(a_game(player_id, "Hades"))

    assert again.id not in (hades.id, celeste.id)


async def store_facts(session_factory: SessionFactory, source_id: str = "hades") -> int:
    async with session_factory() as session:
        facts_id = await SqlFactsRepository(session).upsert(
            GameFacts(source="rawg", source_id=source_id, title="Hades")
        )
        await session.commit()
    return facts_id


async def test_a_new_game_waits_for_its_lookup(
    session_factory: SessionFactory, player_id: int
) -> None:
    [game] = await store(session_factory, a_game(player_id, "Hades"))
    assert game.id is not None

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game.id)

    assert loaded is not None
    assert (loaded.lookup, loaded.facts_id) == (LookupState.PENDING, None)


@pytest.mark.parametrize("ambiguous", [True, False])
async def test_an_unidentified_game_keeps_its_lookup_state(
    session_factory: SessionFactory, player_id: int, ambiguous: bool
) -> None:
    [game] = await store(session_factory, a_game(player_id, "Doom"))
    assert game.id is not None

    game.leave_unidentified(ambiguous=ambiguous)
    async with games_in(session_factory) as repository:
        await repository.save(game)

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game.id)
    assert loaded is not None
    expected = LookupState.AMBIGUOUS if ambiguous else LookupState.NOT_FOUND
    assert (loaded.lookup, loaded.facts_id) == (expected, None)


async def test_identify_links_the_game_to_its_facts(
    session_factory: SessionFactory, player_id: int
) -> None:
    facts_id = await store_facts(session_factory)
    [game] = await store(session_factory, a_game(player_id, "hades"))
    assert game.id is not None

    game.identify(facts_id=facts_id, canonical_title=Title("Hades"))
    async with games_in(session_factory) as repository:
        await repository.save(game)

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game.id)
        by_title = await repository.get_by_title(player_id, Title("Hades").folded)
    assert loaded is not None
    assert (loaded.lookup, loaded.facts_id, loaded.title.text) == (
        LookupState.FOUND,
        facts_id,
        "Hades",
    )
    assert by_title is not None
    assert by_title.facts_id == facts_id


async def test_a_game_added_already_identified_round_trips(
    session_factory: SessionFactory, player_id: int
) -> None:
    facts_id = await store_facts(session_factory)
    [game] = await store(
        session_factory,
        a_game(player_id, "Hades", lookup=LookupState.FOUND, facts_id=facts_id),
    )
    assert game.id is not None

    async with games_in(session_factory) as repository:
        loaded = await repository.get(game.id)

    assert loaded is not None
    assert (loaded.lookup, loaded.facts_id) == (LookupState.FOUND, facts_id)


async def test_a_game_linked_to_unknown_facts_is_refused(
    session_factory: SessionFactory, player_id: int
) -> None:
    with pytest.raises(IntegrityError):
        await store(session_factory, a_game(player_id, "Hades", facts_id=999))


async def test_deleting_facts_unlinks_their_games(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    facts_id = await store_facts(session_factory)
    kept_id = await store_facts(session_factory, "celeste")
    mine, theirs, other = await store(
        session_factory,
        a_game(player_id, "Hades", lookup=LookupState.FOUND, facts_id=facts_id),
        a_game(other_player_id, "Hades", lookup=LookupState.FOUND, facts_id=facts_id),
        a_game(player_id, "Celeste", lookup=LookupState.FOUND, facts_id=kept_id),
    )

    async with session_factory() as session:
        await session.execute(delete(GameFactsRow).where(GameFactsRow.id == facts_id))
        await session.commit()

    async with games_in(session_factory) as repository:
        loaded = [await repository.get(game.id) for game in (mine, theirs, other) if game.id]
    assert [game.facts_id for game in loaded if game] == [None, None, kept_id]
    assert [game.title.text for game in loaded if game] == ["Hades", "Hades", "Celeste"]


async def test_games_stored_before_the_lookup_columns_load_as_pending(tmp_path: Path) -> None:
    # SQLite rebuilds the games table to add the foreign key: the rows must survive it.
    url = sqlite_url(tmp_path)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to, "0001")
            await connection.exec_driver_sql("INSERT INTO players (id) VALUES (1)")
            await connection.exec_driver_sql(
                "INSERT INTO games (player_id, title, title_folded, status, status_rank, "
                "rating, added_at) VALUES (1, 'Hades', 'hades', 'completed', 4, 9, "
                "'2025-03-01 12:30:15.000000')"
            )
        await upgrade_database(url)

        async with create_session_factory(engine)() as session:
            loaded = await SqlGameRepository(session).get_by_title(1, "hades")
            with pytest.raises(IntegrityError):
                await session.execute(update(GameRow).values(rating=11))
    finally:
        await engine.dispose()

    assert loaded is not None
    assert (loaded.title.text, loaded.status, loaded.rating) == (
        "Hades",
        GameStatus.COMPLETED,
        GameRating(9),
    )
    assert (loaded.lookup, loaded.facts_id) == (LookupState.PENDING, None)


def upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
