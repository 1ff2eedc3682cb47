"""Game use cases against the in-memory unit of work: every rule, in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from questrya.common.errors import (
    AlreadyInBacklog,
    AmbiguousTitle,
    GameNotFound,
    InvalidGameState,
    InvalidRating,
    InvalidTitle,
    UnknownPlatform,
    UnknownStatus,
)
from questrya.common.values import ChatAddress, GameStatus
from questrya.games import service
from tests.fakes import FakeUnitOfWork

ALICE, BOB = 1, 2
NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


async def add(uow: FakeUnitOfWork, title: str, player_id: int = ALICE) -> int:
    game = await service.add_to_backlog(
        uow=uow, player_id=player_id, title=title, clock=lambda: NOW
    )
    return game.id


async def test_add_stores_a_backlog_game_and_queues_its_lookup(uow: FakeUnitOfWork) -> None:
    chat = ChatAddress("console", "user:alice")
    game = await service.add_to_backlog(
        uow=uow, player_id=ALICE, title=" Hades ", platform="switch", added_in=chat
    )
    assert (game.title, game.platform, game.status) == ("Hades", "Nintendo Switch", "backlog")
    assert uow.committed_games[game.id].added_in == chat
    job = uow.job_queue.jobs[f"fetch-metadata-{game.id}"]
    assert (job.queue, job.args) == ("metadata", (game.id,))
    assert job.function == "questrya.workers.tasks.metadata.fetch_game_metadata"


async def test_adding_a_title_twice_is_refused(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades")
    with pytest.raises(AlreadyInBacklog, match="Hades is already in your list"):
        await add(uow, "HADES!")
    assert len(uow.committed_games) == 1


async def test_adding_a_wishlisted_game_moves_it_to_the_backlog(uow: FakeUnitOfWork) -> None:
    wished = await service.add_to_backlog(
        uow=uow, player_id=ALICE, title="Hades II", wishlist=True, clock=lambda: NOW
    )
    added = await service.add_to_backlog(uow=uow, player_id=ALICE, title="hades ii")
    assert (added.id, added.from_wishlist, added.status) == (wished.id, True, "backlog")
    assert uow.committed_games[wished.id].status is GameStatus.BACKLOG
    assert len(uow.committed_games) == 1


async def test_wishing_for_a_game_already_in_the_list_is_refused(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades")
    with pytest.raises(AlreadyInBacklog):
        await service.add_to_backlog(uow=uow, player_id=ALICE, title="Hades", wishlist=True)
    assert uow.committed_games[1].status is GameStatus.BACKLOG


async def test_the_same_title_for_two_players_is_fine(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades", ALICE)
    await add(uow, "Hades", BOB)
    assert len(uow.committed_games) == 2


@pytest.mark.parametrize(
    ("title", "platform", "error"),
    [
        ("", None, InvalidTitle),
        ("x" * 5000, None, InvalidTitle),
        ("Hades", "toaster", UnknownPlatform),
    ],
)
async def test_bad_add_changes_nothing(
    uow: FakeUnitOfWork, title: str, platform: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await service.add_to_backlog(uow=uow, player_id=ALICE, title=title, platform=platform)
    assert uow.committed_games == {}
    assert uow.job_queue.jobs == {}


async def test_done_with_rating_completes_and_dates(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades")
    game = await service.mark_completed(
        uow=uow, player_id=ALICE, title="hades", rating="9", clock=lambda: NOW
    )
    assert (game.status, game.rating, game.completed_at) == ("completed", 9, NOW)


async def test_done_with_rating_eleven_changes_nothing(uow: FakeUnitOfWork) -> None:
    game_id = await add(uow, "Celeste")
    with pytest.raises(InvalidRating, match="from 1 to 10, not 11"):
        await service.mark_completed(uow=uow, player_id=ALICE, title="Celeste", rating="11")
    assert uow.committed_games[game_id].status.value == "backlog"


async def test_completing_an_abandoned_game_is_refused(uow: FakeUnitOfWork) -> None:
    game_id = await add(uow, "Celeste")
    await service.abandon(uow=uow, player_id=ALICE, title="Celeste")
    with pytest.raises(InvalidGameState, match="abandoned"):
        await service.mark_completed(uow=uow, player_id=ALICE, title="Celeste")
    assert uow.committed_games[game_id].status.value == "abandoned"


async def test_rate_needs_a_number(uow: FakeUnitOfWork) -> None:
    await add(uow, "Celeste")
    await service.start_playing(uow=uow, player_id=ALICE, title="Celeste")
    with pytest.raises(InvalidRating, match='not "abc"'):
        await service.rate(uow=uow, player_id=ALICE, title="Celeste", rating="abc")
    with pytest.raises(InvalidRating, match="missing"):
        await service.rate(uow=uow, player_id=ALICE, title="Celeste", rating=None)
    game = await service.rate(uow=uow, player_id=ALICE, title="Celeste", rating=8)
    assert game.rating == 8


async def test_a_player_only_ever_finds_their_own_games(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades", ALICE)
    with pytest.raises(GameNotFound):
        await service.mark_completed(uow=uow, player_id=BOB, title="Hades")
    page = await service.list_backlog(uow=uow, player_id=BOB)
    assert page.games == []


async def test_a_typo_finds_the_one_close_game(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hollow Knight")
    game = await service.start_playing(uow=uow, player_id=ALICE, title="hollow night")
    assert (game.title, game.status) == ("Hollow Knight", "playing")


async def test_an_ambiguous_title_lists_the_candidates(uow: FakeUnitOfWork) -> None:
    await add(uow, "The Legend of Zelda: Breath of the Wild")
    await add(uow, "The Legend of Zelda: Tears of the Kingdom")
    with pytest.raises(AmbiguousTitle) as refusal:
        await service.start_playing(uow=uow, player_id=ALICE, title="zelda")
    assert len(refusal.value.candidates) == 2


async def test_an_unknown_title_suggests_the_closest(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades")
    await add(uow, "Hades II")
    with pytest.raises(GameNotFound) as refusal:
        await service.start_playing(uow=uow, player_id=ALICE, title="hades 2")
    assert [game.title for game in refusal.value.suggestions] == ["Hades", "Hades II"]


async def test_backlog_lists_open_games_by_status_with_paging(uow: FakeUnitOfWork) -> None:
    for number in range(12):
        await add(uow, f"Game {number:02}")
    await service.start_playing(uow=uow, player_id=ALICE, title="Game 11")
    await service.mark_completed(uow=uow, player_id=ALICE, title="Game 05")
    first = await service.list_backlog(uow=uow, player_id=ALICE)
    second = await service.list_backlog(uow=uow, player_id=ALICE, page=2)
    assert first.games[0].title == "Game 11"
    assert (len(first.games), first.has_next, len(second.games), second.has_next) == (
        10,
        True,
        1,
        False,
    )
    done = await service.list_backlog(uow=uow, player_id=ALICE, status="completed")
    assert [g.title for g in done.games] == ["Game 05"]
    everything = await service.list_backlog(uow=uow, player_id=ALICE, status="all", page=2)
    assert everything.games[-1].title == "Game 05"


async def test_backlog_refuses_an_unknown_status(uow: FakeUnitOfWork) -> None:
    with pytest.raises(UnknownStatus, match="or open or all"):
        await service.list_backlog(uow=uow, player_id=ALICE, status="beaten")


async def test_remove_deletes_only_that_game(uow: FakeUnitOfWork) -> None:
    await add(uow, "Hades")
    await add(uow, "Celeste")
    await service.remove(uow=uow, player_id=ALICE, title="Hades")
    assert [g.title.text for g in uow.committed_games.values()] == ["Celeste"]


async def test_stats_count_statuses_and_ratings(uow: FakeUnitOfWork) -> None:
    for title in ("Hades", "Celeste", "Inside"):
        await add(uow, title)
    await service.mark_completed(
        uow=uow, player_id=ALICE, title="Hades", rating=9, clock=lambda: NOW
    )
    await service.mark_completed(
        uow=uow, player_id=ALICE, title="Inside", rating=6, clock=lambda: NOW
    )
    numbers = await service.get_stats(uow=uow, player_id=ALICE, clock=lambda: NOW)
    assert numbers.total == 3
    assert numbers.by_status == {"backlog": 1, "completed": 2}
    assert (numbers.rated_count, numbers.average_rating, numbers.completed_this_year) == (2, 7.5, 2)


async def test_a_typed_number_that_ends_a_title_is_part_of_it(uow: FakeUnitOfWork) -> None:
    portal_2 = await add(uow, "Portal 2")
    await add(uow, "Portal")
    done = await service.mark_completed(uow=uow, player_id=ALICE, title="portal", rating="2")
    assert (done.id, done.rating) == (portal_2, None)
    rated = await service.mark_completed(uow=uow, player_id=ALICE, title="Portal", rating="9")
    assert (rated.title, rated.rating) == ("Portal", 9)
