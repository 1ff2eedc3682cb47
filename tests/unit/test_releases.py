"""Release days: a wishlisted game out today is announced to its wisher, in the chat where they
added it, once per game and day however often the nightly job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.metadata.domain import GameFacts
from questrya.releases import service as release_service
from questrya.users import service as user_service
from tests.fakes import FakeUnitOfWork, identify_game

RELEASE_DAY = date(2026, 9, 25)
HADES_II = GameFacts(
    source="offline",
    source_id="hades-ii",
    title="Hades II",
    release_date=RELEASE_DAY,
    platforms=("PC", "Nintendo Switch 2"),
    cover_url="https://img.example/hades-ii.jpg",
    critic_score=95,
)
SILKSONG = GameFacts(
    source="offline",
    source_id="silksong",
    title="Hollow Knight: Silksong",
    release_date=date(2026, 9, 4),
)
HADES_II_ID, SILKSONG_ID = 1, 2
ALICE_PRIVATE = ChatAddress("console", "user:alice")
BOB_PRIVATE = ChatAddress("console", "user:bob")
FRIENDS = ChatAddress("console", "group:friends")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.committed_facts = {HADES_II_ID: HADES_II, SILKSONG_ID: SILKSONG}
    return uow


async def player(uow: FakeUnitOfWork, name: str) -> int:
    registered = await user_service.register(
        uow=uow, platform="console", external_id=name.lower(), display_name=name
    )
    return registered.id


async def wish(
    uow: FakeUnitOfWork,
    player_id: int,
    title: str,
    facts_id: int,
    added_in: ChatAddress | None,
    *,
    wishlist: bool = True,
) -> int:
    """Add a game as /wish (or /add) does, and link it to its facts as the lookup does."""
    game = await game_service.add_to_backlog(
        uow=uow,
        player_id=player_id,
        title=title,
        added_in=added_in,
        wishlist=wishlist,
        clock=lambda: datetime(2026, 6, 1, tzinfo=UTC),
    )
    await identify_game(uow, game_id=game.id, facts_id=facts_id, canonical_title=title)
    return game.id


async def announce(uow: FakeUnitOfWork, day: date = RELEASE_DAY) -> int:
    return await release_service.announce_releases(uow_factory=lambda: uow, day=day)


def told(uow: FakeUnitOfWork) -> list[tuple[ChatAddress, str]]:
    return [
        (n.address, n.text)
        for n in uow.committed_notifications.values()
        if n.event_key.startswith("release-day")
    ]


async def test_the_wisher_is_told_in_the_chat_where_they_added_it(uow: FakeUnitOfWork) -> None:
    alice = await player(uow, "Alice")
    await wish(uow, alice, "Hades II", HADES_II_ID, ALICE_PRIVATE)

    assert await announce(uow) == 1
    [notification] = uow.committed_notifications.values()
    assert notification.address == ALICE_PRIVATE
    assert notification.text == (
        "🎉 Alice, Hades II is out today: it's on your wishlist.\n"
        "Hades II (2026) · PC, Nintendo Switch 2 · Metacritic 95\n"
        "Got it? /add Hades II moves it to your backlog."
    )
    assert notification.image_url == HADES_II.cover_url
    assert [job.args for job in uow.job_queue.jobs.values() if "deliver" in job.job_id] == [
        (notification.id,)
    ]


async def test_a_game_wished_in_a_group_is_announced_in_that_group(uow: FakeUnitOfWork) -> None:
    bob = await player(uow, "Bob")
    await wish(uow, bob, "Hades II", HADES_II_ID, FRIENDS)
    await announce(uow)
    assert [address for address, _ in told(uow)] == [FRIENDS]


async def test_each_wisher_is_told_once_per_game_and_day_however_often_it_runs(
    uow: FakeUnitOfWork,
) -> None:
    alice, bob = await player(uow, "Alice"), await player(uow, "Bob")
    await wish(uow, alice, "Hades II", HADES_II_ID, ALICE_PRIVATE)
    await wish(uow, bob, "Hades II", HADES_II_ID, BOB_PRIVATE)

    for _ in range(3):
        await announce(uow)
    assert sorted((address.chat_id, text.split(",")[0]) for address, text in told(uow)) == [
        ("user:alice", "🎉 Alice"),
        ("user:bob", "🎉 Bob"),
    ]


async def test_nothing_is_said_on_another_day(uow: FakeUnitOfWork) -> None:
    alice = await player(uow, "Alice")
    await wish(uow, alice, "Hades II", HADES_II_ID, ALICE_PRIVATE)
    assert await announce(uow, date(2026, 9, 24)) == 0
    assert await announce(uow, date(2027, 9, 25)) == 0
    assert uow.committed_notifications == {}


async def test_nothing_is_said_for_a_game_that_is_not_wishlisted(uow: FakeUnitOfWork) -> None:
    alice = await player(uow, "Alice")
    await wish(uow, alice, "Hades II", HADES_II_ID, ALICE_PRIVATE, wishlist=False)
    assert await announce(uow) == 0
    assert uow.committed_notifications == {}


async def test_only_the_game_released_that_day_is_announced(uow: FakeUnitOfWork) -> None:
    alice = await player(uow, "Alice")
    await wish(uow, alice, "Hades II", HADES_II_ID, ALICE_PRIVATE)
    await wish(uow, alice, "Hollow Knight: Silksong", SILKSONG_ID, ALICE_PRIVATE)

    await announce(uow, SILKSONG.release_date or RELEASE_DAY)
    assert [text.splitlines()[0] for _, text in told(uow)] == [
        "🎉 Alice, Hollow Knight: Silksong is out today: it's on your wishlist."
    ]


async def test_a_game_wished_nowhere_known_is_skipped(uow: FakeUnitOfWork) -> None:
    alice = await player(uow, "Alice")
    await wish(uow, alice, "Hades II", HADES_II_ID, None)
    assert await announce(uow) == 0
    assert uow.committed_notifications == {}
