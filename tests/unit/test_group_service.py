"""Group use cases against the in-memory unit of work: who may switch the feed, what sharing
lets out, feed posts made once per feed, and what a group sees when it decides on tonight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from questrya.common.clock import Clock
from questrya.common.errors import GroupOnly, InvalidVote, NoPoll, NotGroupAdmin
from questrya.common.jobs import JobRequest, job_id
from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.groups import service as group_service
from questrya.groups.schemas import TonightPickRead, TonightRead
from questrya.metadata.domain import GameFacts
from questrya.users import service as user_service
from tests.fakes import FakeUnitOfWork, identify_game

FRIENDS = ChatAddress("console", "group:friends")
WORK = ChatAddress("console", "group:work")
BOOK_CLUB = ChatAddress("console", "group:book-club")
TELEGRAM_GROUP = ChatAddress("telegram", "-1001234567890")
MONDAY = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
CELESTE = GameFacts(
    source="offline",
    source_id="celeste",
    title="Celeste",
    release_date=date(2018, 1, 25),
    platforms=("PC", "Nintendo Switch"),
    cover_url="https://img.example/celeste.jpg",
    critic_score=92,
    hours_to_beat=8,
)
CELESTE_FACTS_ID = 7
CELESTE_LINE = "Celeste (2018) · PC, Nintendo Switch · Metacritic 92 · ~8 h"


@dataclass(frozen=True)
class Players:
    alice: int
    bob: int
    carol: int


def at(moment: datetime) -> Clock:
    return lambda: moment


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
async def players(uow: FakeUnitOfWork) -> Players:
    """Alice, Bob and Carol, who spoke in "friends" in that order (Alice founded it)."""
    ids = []
    for minutes, name in enumerate(["Alice", "Bob", "Carol"]):
        player = await user_service.register(
            uow=uow, platform="console", external_id=name.lower(), display_name=name
        )
        await join(uow, FRIENDS, player.id, on=MONDAY + timedelta(minutes=minutes))
        ids.append(player.id)
    return Players(*ids)


async def join(uow: FakeUnitOfWork, address: ChatAddress, player_id: int, *, on: datetime) -> None:
    await group_service.note_presence(uow=uow, address=address, player_id=player_id, clock=at(on))


async def switch_feed(
    uow: FakeUnitOfWork,
    player_id: int,
    enabled: bool = True,
    *,
    address: ChatAddress = FRIENDS,
    is_admin: bool | None = None,
) -> None:
    await group_service.switch_feed(
        uow=uow,
        address=address,
        player_id=player_id,
        enabled=enabled,
        is_admin=is_admin,
        is_group=True,
    )


async def share(
    uow: FakeUnitOfWork, player_id: int, shares: bool = True, address: ChatAddress = FRIENDS
) -> None:
    await group_service.set_sharing(
        uow=uow, address=address, player_id=player_id, shares=shares, is_group=True
    )


async def add(uow: FakeUnitOfWork, player_id: int, title: str, *, wishlist: bool = False) -> int:
    game = await game_service.add_to_backlog(
        uow=uow, player_id=player_id, title=title, wishlist=wishlist, clock=at(MONDAY)
    )
    return game.id


async def complete(
    uow: FakeUnitOfWork, player_id: int, title: str, rating: int | None, *, on: datetime = MONDAY
) -> JobRequest:
    """Complete the game and return the announcement job it queued."""
    game = await game_service.mark_completed(
        uow=uow, player_id=player_id, title=title, rating=rating, clock=at(on)
    )
    assert game.completed_at is not None
    return uow.job_queue.jobs[job_id("announce-completion", game.id, game.completed_at.isoformat())]


async def announce(uow: FakeUnitOfWork, job: JobRequest) -> int:
    game_id, completed_at = job.args
    return await group_service.announce_completion(
        uow_factory=lambda: uow, game_id=game_id, completed_at=completed_at
    )


def feed_posts(uow: FakeUnitOfWork) -> list[tuple[ChatAddress, str]]:
    return sorted(
        (
            (n.address, n.text)
            for n in uow.committed_notifications.values()
            if n.event_key.startswith("feed-completion")
        ),
        key=lambda post: (post[0].chat_id, post[1]),
    )


async def link_celeste(uow: FakeUnitOfWork, game_id: int) -> None:
    uow.committed_facts[CELESTE_FACTS_ID] = CELESTE
    await identify_game(uow, game_id=game_id, facts_id=CELESTE_FACTS_ID, canonical_title="Celeste")


# -- the feed switch ------------------------------------------------------------------------


async def test_in_the_console_the_first_member_to_speak_turns_the_feed_on(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    assert uow.committed_groups[FRIENDS].feed_enabled


async def test_a_non_admin_cannot_turn_the_feed_off_in_the_console(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    commits = uow.commits
    with pytest.raises(NotGroupAdmin, match="Only the group's admins"):
        await switch_feed(uow, players.bob, enabled=False)
    assert uow.committed_groups[FRIENDS].feed_enabled
    assert uow.commits == commits


async def test_a_platform_non_admin_is_refused_even_as_the_first_to_speak(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await join(uow, TELEGRAM_GROUP, players.alice, on=MONDAY)
    await join(uow, TELEGRAM_GROUP, players.bob, on=MONDAY + timedelta(hours=1))
    await switch_feed(uow, players.bob, address=TELEGRAM_GROUP, is_admin=True)
    with pytest.raises(NotGroupAdmin):
        await switch_feed(uow, players.alice, False, address=TELEGRAM_GROUP, is_admin=False)
    assert uow.committed_groups[TELEGRAM_GROUP].feed_enabled


async def test_the_feed_switch_is_refused_in_a_private_chat(
    uow: FakeUnitOfWork, players: Players
) -> None:
    private = ChatAddress("console", "user:alice")
    with pytest.raises(GroupOnly, match="/feed works in group chats"):
        await group_service.switch_feed(
            uow=uow,
            address=private,
            player_id=players.alice,
            enabled=True,
            is_admin=None,
            is_group=False,
        )
    assert private not in uow.committed_groups


# -- sharing --------------------------------------------------------------------------------


async def test_a_member_does_not_share_until_they_say_so(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    assert not uow.committed_groups[FRIENDS].shares_of(players.bob)
    assert await group_service.feeds_shared_by(uow=uow, player_id=players.bob) == []

    group = await group_service.set_sharing(
        uow=uow, address=FRIENDS, player_id=players.bob, shares=True, is_group=True
    )
    assert (group.feed_enabled, group.shares, group.member_count) == (True, True, 3)
    assert await group_service.feeds_shared_by(uow=uow, player_id=players.bob) == [FRIENDS]


async def test_sharing_off_again_takes_the_feed_away(uow: FakeUnitOfWork, players: Players) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await share(uow, players.bob, shares=False)
    assert await group_service.feeds_shared_by(uow=uow, player_id=players.bob) == []


async def test_share_is_refused_in_a_private_chat(uow: FakeUnitOfWork, players: Players) -> None:
    with pytest.raises(GroupOnly, match="/share works in group chats"):
        await group_service.set_sharing(
            uow=uow,
            address=ChatAddress("console", "user:bob"),
            player_id=players.bob,
            shares=True,
            is_group=False,
        )


# -- posting completions to the feeds -------------------------------------------------------


async def bob_shares_in_friends_and_work(uow: FakeUnitOfWork, players: Players) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await join(uow, WORK, players.bob, on=MONDAY)
    await switch_feed(uow, players.bob, address=WORK)
    await share(uow, players.bob, address=WORK)


async def test_a_completion_goes_to_each_feed_the_player_shares_to_once(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await bob_shares_in_friends_and_work(uow, players)
    await add(uow, players.bob, "Celeste")
    job = await complete(uow, players.bob, "Celeste", 5)

    assert await announce(uow, job) == 2
    assert await announce(uow, job) == 2
    post = "🏁 Bob completed Celeste · 5/10."
    assert feed_posts(uow) == [(FRIENDS, post), (WORK, post)]


async def test_the_completion_job_is_queued_when_the_game_is_completed(
    uow: FakeUnitOfWork, players: Players
) -> None:
    game_id = await add(uow, players.bob, "Celeste")
    job = await complete(uow, players.bob, "Celeste", 9)
    assert job.function == game_service.ANNOUNCE_COMPLETION_JOB
    assert job.args == (game_id, MONDAY.isoformat())


async def test_nothing_goes_to_a_group_where_the_player_does_not_share(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await join(uow, BOOK_CLUB, players.bob, on=MONDAY)
    await switch_feed(uow, players.bob, address=BOOK_CLUB)
    await add(uow, players.bob, "Celeste")

    assert await announce(uow, await complete(uow, players.bob, "Celeste", 9)) == 1
    assert [address for address, _ in feed_posts(uow)] == [FRIENDS]


async def test_nothing_is_posted_for_a_member_who_does_not_share(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await add(uow, players.carol, "Celeste")

    assert await announce(uow, await complete(uow, players.carol, "Celeste", 10)) == 0
    assert uow.committed_notifications == {}


async def test_nothing_is_posted_to_a_feed_switched_off(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await switch_feed(uow, players.alice, enabled=False)
    await add(uow, players.bob, "Celeste")

    assert await announce(uow, await complete(uow, players.bob, "Celeste", 9)) == 0
    assert uow.committed_notifications == {}


async def test_nothing_is_posted_for_a_game_removed_before_the_job_ran(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await add(uow, players.bob, "Celeste")
    job = await complete(uow, players.bob, "Celeste", 9)
    await game_service.remove(uow=uow, player_id=players.bob, title="Celeste")

    assert await announce(uow, job) == 0
    assert uow.committed_notifications == {}


async def test_an_earlier_completion_is_not_posted_once_the_game_is_completed_again(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await add(uow, players.bob, "Celeste")
    first = await complete(uow, players.bob, "Celeste", 6)
    await game_service.start_playing(uow=uow, player_id=players.bob, title="Celeste")
    again = await complete(uow, players.bob, "Celeste", 8, on=MONDAY + timedelta(days=30))

    assert await announce(uow, first) == 0
    assert await announce(uow, again) == 1
    assert feed_posts(uow) == [(FRIENDS, "⭐ Bob recommends Celeste · 8/10")]


async def test_a_completion_read_back_in_utc_is_still_the_one_the_job_names(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    game_id = await add(uow, players.bob, "Celeste")
    paris = timezone(timedelta(hours=1))
    job = await complete(uow, players.bob, "Celeste", 9, on=MONDAY.astimezone(paris))
    # The database gives every datetime back in UTC: the same moment, written differently.
    stored = uow.committed_games[game_id]
    assert stored.completed_at is not None
    stored.completed_at = stored.completed_at.astimezone(UTC)

    assert await announce(uow, job) == 1


async def test_a_recommendation_is_posted_with_the_games_facts_and_cover(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await link_celeste(uow, await add(uow, players.bob, "celeste"))

    await announce(uow, await complete(uow, players.bob, "Celeste", 9))
    [post] = uow.committed_notifications.values()
    assert post.address == FRIENDS
    assert post.text == f"⭐ Bob recommends Celeste · 9/10\n{CELESTE_LINE}"
    assert post.image_url == CELESTE.cover_url


async def test_a_plain_completion_is_posted_without_facts_or_cover(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await switch_feed(uow, players.alice)
    await share(uow, players.bob)
    await link_celeste(uow, await add(uow, players.bob, "Celeste"))

    await announce(uow, await complete(uow, players.bob, "Celeste", None))
    [post] = uow.committed_notifications.values()
    assert (post.text, post.image_url) == ("🏁 Bob completed Celeste.", None)


# -- /recommend -----------------------------------------------------------------------------


async def test_a_recommendation_carries_the_facts_and_the_cover(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await link_celeste(uow, await add(uow, players.bob, "Celeste"))
    await complete(uow, players.bob, "Celeste", 9)

    post = await group_service.recommend(
        uow_factory=lambda: uow, player_id=players.bob, title="celeste", name="Bob"
    )
    assert post.text == f"⭐ Bob recommends Celeste · 9/10\n{CELESTE_LINE}"
    assert post.image_url == CELESTE.cover_url


async def test_a_recommendation_of_an_unknown_game_is_just_its_title(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await add(uow, players.bob, "My Homebrew Game")
    post = await group_service.recommend(
        uow_factory=lambda: uow, player_id=players.bob, title="my homebrew game", name="Bob"
    )
    assert (post.text, post.image_url) == ("⭐ Bob recommends My Homebrew Game", None)


# -- /tonight -------------------------------------------------------------------------------


async def ask_tonight(uow: FakeUnitOfWork, asker: int) -> TonightRead:
    return await group_service.tonight(
        uow_factory=lambda: uow, address=FRIENDS, player_id=asker, clock=at(MONDAY)
    )


async def test_tonight_counts_the_asker_and_the_members_who_share(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await share(uow, players.bob)
    for player_id in (players.alice, players.bob, players.carol):
        await add(uow, player_id, "Hades")
    await add(uow, players.alice, "Tunic", wishlist=True)
    await add(uow, players.bob, "tunic")

    result = await ask_tonight(uow, players.alice)
    assert result.picks == [
        TonightPickRead(title="Hades", players=["Alice", "Bob"], critic_score=None),
        TonightPickRead(title="Tunic", players=["Alice", "Bob"], critic_score=None),
    ]
    assert result.poll is not None
    assert result.poll.options == ["Hades", "Tunic"]
    assert result.poll.tally == [("Hades", 0), ("Tunic", 0)]
    assert [poll.options for poll in uow.committed_polls] == [("Hades", "Tunic")]


async def test_tonight_never_shows_a_game_of_a_member_who_does_not_share(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await share(uow, players.bob)
    await add(uow, players.alice, "Hades")
    await add(uow, players.bob, "Hades")
    # Carol has what both others have, and more: none of it may show, nor her name.
    for title in ("Hades", "Celeste", "Outer Wilds"):
        await add(uow, players.carol, title)
    await add(uow, players.alice, "Celeste")
    await add(uow, players.bob, "Outer Wilds")

    result = await ask_tonight(uow, players.alice)
    assert [(pick.title, pick.players) for pick in result.picks] == [("Hades", ["Alice", "Bob"])]
    assert result.poll is None


async def test_tonight_counts_a_non_sharing_askers_own_games(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await share(uow, players.bob)
    await add(uow, players.carol, "Hades")
    await add(uow, players.bob, "Hades")

    carol_asks = await ask_tonight(uow, players.carol)
    alice_asks = await ask_tonight(uow, players.alice)
    assert [pick.players for pick in carol_asks.picks] == [["Bob", "Carol"]]
    assert alice_asks.picks == []


async def test_tonight_leaves_out_games_already_started_or_finished(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await share(uow, players.bob)
    for player_id in (players.alice, players.bob):
        await add(uow, player_id, "Hades")
        await add(uow, player_id, "Celeste")
    await game_service.start_playing(uow=uow, player_id=players.bob, title="Hades")
    await complete(uow, players.alice, "Celeste", 8)

    result = await ask_tonight(uow, players.alice)
    assert (result.picks, result.poll) == ([], None)
    assert uow.committed_polls == []


async def test_tonight_ranks_by_the_games_critic_score(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await share(uow, players.bob)
    for player_id in (players.alice, players.bob):
        await add(uow, player_id, "Hades")
        await link_celeste(uow, await add(uow, player_id, "Celeste"))

    result = await ask_tonight(uow, players.alice)
    assert [(pick.title, pick.critic_score) for pick in result.picks] == [
        ("Celeste", 92),
        ("Hades", None),
    ]


# -- /vote ----------------------------------------------------------------------------------


async def open_a_poll(uow: FakeUnitOfWork, players: Players) -> None:
    await share(uow, players.bob)
    for player_id in (players.alice, players.bob):
        await add(uow, player_id, "Hades")
        await add(uow, player_id, "Tunic")
    assert (await ask_tonight(uow, players.alice)).poll is not None


async def vote(uow: FakeUnitOfWork, player_id: int, number: int) -> list[tuple[str, int]]:
    poll = await group_service.vote(uow=uow, address=FRIENDS, player_id=player_id, number=number)
    return poll.tally


async def test_a_vote_without_a_poll_is_refused(uow: FakeUnitOfWork, players: Players) -> None:
    with pytest.raises(NoPoll, match="start one with /tonight"):
        await vote(uow, players.bob, 1)


async def test_voting_again_replaces_the_members_vote(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await open_a_poll(uow, players)
    assert await vote(uow, players.bob, 1) == [("Hades", 1), ("Tunic", 0)]
    assert await vote(uow, players.alice, 1) == [("Hades", 2), ("Tunic", 0)]
    assert await vote(uow, players.bob, 2) == [("Hades", 1), ("Tunic", 1)]
    assert uow.committed_polls[-1].votes == {players.alice: 0, players.bob: 1}


async def test_a_vote_for_a_missing_option_changes_nothing(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await open_a_poll(uow, players)
    await vote(uow, players.bob, 2)
    with pytest.raises(InvalidVote, match="from 1 to 2"):
        await vote(uow, players.bob, 3)
    assert uow.committed_polls[-1].votes == {players.bob: 1}


async def test_a_vote_goes_to_the_latest_poll_of_its_own_group(
    uow: FakeUnitOfWork, players: Players
) -> None:
    await open_a_poll(uow, players)
    await add(uow, players.alice, "Celeste")
    await add(uow, players.bob, "Celeste")
    second = await ask_tonight(uow, players.alice)
    assert second.poll is not None

    await vote(uow, players.bob, 3)
    assert [poll.votes for poll in uow.committed_polls] == [{}, {players.bob: 2}]
    with pytest.raises(NoPoll):
        await group_service.vote(uow=uow, address=WORK, player_id=players.bob, number=1)


async def test_a_chat_that_moves_takes_its_group_and_games_along() -> None:
    uow = FakeUnitOfWork()
    old, new = ChatAddress("telegram", "-100"), ChatAddress("telegram", "-1009")
    game = await game_service.add_to_backlog(uow=uow, player_id=1, title="Hades", added_in=old)
    await group_service.note_presence(uow=uow, address=old, player_id=1)

    await group_service.move_chat(uow_factory=lambda: uow, old=old, new=new)

    assert uow.committed_games[game.id].added_in == new
    assert set(uow.committed_groups) == {new}
