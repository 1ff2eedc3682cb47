"""Group commands through the router, as the console types them: the feed, sharing, posts to
the feed, /tonight's vote, and one-line refusals for everything typed wrong or out of place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from bots.chat import ChatRouter, Reply, Speaker, build_router
from bots.commands import command_table
from bots.messages import Poll
from questrya.common.values import ChatAddress, GameStatus
from questrya.games import service as game_service
from questrya.groups import service as group_service
from questrya.metadata import service as metadata_service
from questrya.metadata.domain import GameFacts
from tests.fake_provider import FakeProvider
from tests.fakes import FakeUnitOfWork

FRIENDS = ChatAddress("console", "group:friends")
CELESTE = GameFacts(
    source="fake",
    source_id="celeste",
    title="Celeste",
    release_date=date(2018, 1, 25),
    platforms=("PC", "Nintendo Switch"),
    cover_url="https://img.example/celeste.jpg",
    critic_score=92,
    hours_to_beat=8,
)
CELESTE_LINE = "Celeste (2018) · PC, Nintendo Switch · Metacritic 92 · ~8 h"


def in_friends(name: str, admin_check: Callable[[], Awaitable[bool]] | None = None) -> Speaker:
    return Speaker(
        "console", name.lower(), name, "group:friends", is_group=True, admin_check=admin_check
    )


def in_private(name: str) -> Speaker:
    return Speaker("console", name.lower(), name, f"user:{name.lower()}")


ALICE, BOB, CAROL = in_friends("Alice"), in_friends("Bob"), in_friends("Carol")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def router(uow: FakeUnitOfWork) -> ChatRouter:
    return build_router(lambda: uow)


async def say(router: ChatRouter, speaker: Speaker, text: str) -> Reply:
    return await router.handle_text(speaker, text)


async def look_up_games(uow: FakeUnitOfWork) -> None:
    """Run the queued lookups as the worker would, against a games database that has Celeste."""
    provider = FakeProvider([CELESTE])
    for job in list(uow.job_queue.jobs.values()):
        if job.function == game_service.FETCH_METADATA_JOB:
            await metadata_service.fetch_for_game(
                uow_factory=lambda: uow, provider=provider, game_id=job.args[0]
            )


async def announce_completions(uow: FakeUnitOfWork) -> list[int]:
    """Run every queued completion announcement as the worker would; how many each posted."""
    return [
        await group_service.announce_completion(
            uow_factory=lambda: uow, game_id=job.args[0], completed_at=job.args[1]
        )
        for job in list(uow.job_queue.jobs.values())
        if job.function == game_service.ANNOUNCE_COMPLETION_JOB
    ]


def posted_in(uow: FakeUnitOfWork, address: ChatAddress) -> list[str]:
    return [n.text for n in uow.committed_notifications.values() if n.address == address]


def feed_is_on(uow: FakeUnitOfWork) -> bool:
    return FRIENDS in uow.committed_groups and uow.committed_groups[FRIENDS].feed_enabled


# -- the console scenario -------------------------------------------------------------------


async def test_bobs_recommendation_reaches_the_feed_alice_turned_on(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    feed = await say(router, ALICE, "/feed on")
    assert feed.text.startswith("The feed is on: members who /share on")
    assert feed.public
    assert (await say(router, BOB, "/share on")).text == (
        "You share here: your completions and recommendations will be posted."
    )
    # Bob plays alone, in his private chat: the feed still hears of it, as he chose.
    await say(router, in_private("Bob"), "/add Celeste")
    await look_up_games(uow)
    done = await say(router, in_private("Bob"), "/done Celeste 9")
    assert done.text == "Completed Celeste · 9/10. Well played!"

    announcements = [job for job in uow.job_queue.jobs.values() if "announce" in job.job_id]
    assert [job.function for job in announcements] == [
        "questrya.workers.tasks.groups.announce_completion"
    ]
    assert await announce_completions(uow) == [1]
    assert posted_in(uow, FRIENDS) == [f"⭐ Bob recommends Celeste · 9/10\n{CELESTE_LINE}"]
    [post] = [n for n in uow.committed_notifications.values() if n.address == FRIENDS]
    assert post.image_url == CELESTE.cover_url


async def test_tonight_proposes_the_games_alice_and_bob_both_have_in_a_poll(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    await say(router, ALICE, "/feed on")
    await say(router, BOB, "/share on")
    for speaker in (in_private("Alice"), in_private("Bob")):
        for title in ("Hades", "Hollow Knight", "Celeste"):
            await say(router, speaker, f"/add {title}")
    await say(router, in_private("Bob"), "/done Celeste 9")
    await say(router, in_private("Alice"), "/add Tunic")

    reply = await say(router, ALICE, "/tonight")
    assert reply.poll == Poll("What shall we play tonight?", ("Hades", "Hollow Knight"))
    assert reply.text == (
        "What shall we play tonight?\n1. Hades — Alice, Bob\n2. Hollow Knight — Alice, Bob"
    )
    assert reply.public

    vote = await say(router, BOB, "/vote 2")
    assert vote.text == "Bob voted. So far: Hades 0 · Hollow Knight 1"
    again = await say(router, BOB, "/vote 1")
    assert again.text == "Bob voted. So far: Hades 1 · Hollow Knight 0"


# -- who may switch the feed ----------------------------------------------------------------


async def test_a_non_admin_cannot_turn_the_feed_off(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    await say(router, ALICE, "/feed on")
    reply = await say(router, BOB, "/feed off")
    assert reply.text == "Only the group's admins can turn the feed on or off."
    assert feed_is_on(uow)
    assert (await say(router, ALICE, "/feed off")).text == (
        "The feed is off: nothing more will be posted here."
    )
    assert not feed_is_on(uow)


async def test_where_the_platform_knows_its_admins_it_decides(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    async def yes() -> bool:
        return True

    async def no() -> bool:
        return False

    first_but_not_admin = in_friends("Alice", admin_check=no)
    later_but_admin = in_friends("Bob", admin_check=yes)
    refused = await say(router, first_but_not_admin, "/feed on")
    assert refused.text == "Only the group's admins can turn the feed on or off."
    assert not feed_is_on(uow)
    await say(router, later_but_admin, "/feed on")
    assert feed_is_on(uow)


# -- a member who does not share ------------------------------------------------------------


async def test_a_member_who_does_not_share_stays_out_of_the_feed_and_of_tonight(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    await say(router, ALICE, "/feed on")
    await say(router, BOB, "/share on")
    assert (await say(router, CAROL, "/share off")).text == "Your completions stay private here."
    for speaker in (in_private("Bob"), in_private("Carol")):
        await say(router, speaker, "/add Hades")
        await say(router, speaker, "/add Celeste")
    await say(router, in_private("Carol"), "/add Outer Wilds")
    await say(router, in_private("Alice"), "/add Outer Wilds")
    await say(router, in_private("Carol"), "/done Celeste 10")

    assert await announce_completions(uow) == [0]
    assert posted_in(uow, FRIENDS) == []
    reply = await say(router, ALICE, "/tonight")
    assert "Carol" not in reply.text
    assert "Outer Wilds" not in reply.text
    assert reply.poll is None


async def test_sharing_before_the_feed_is_on_says_an_admin_must_turn_it_on(
    router: ChatRouter,
) -> None:
    await say(router, ALICE, "/help")
    assert (await say(router, BOB, "/share on")).text == (
        "You share here; an admin still has to turn the feed on with /feed on."
    )


# -- /tonight with too little to vote on ----------------------------------------------------


async def test_tonight_with_no_shared_game_says_how_to_get_one(router: ChatRouter) -> None:
    await say(router, in_private("Alice"), "/add Hades")
    reply = await say(router, ALICE, "/tonight")
    assert reply.text.startswith("No game is on two or more lists here yet.")
    assert reply.poll is None


async def test_tonight_with_one_shared_game_names_it_without_a_poll(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    await say(router, in_private("Alice"), "/add Hades")
    await say(router, in_private("Bob"), "/add hades")
    await say(router, BOB, "/share on")
    reply = await say(router, ALICE, "/tonight")
    assert reply.text == (
        "Only one game is on two or more lists here: Hades — Alice, Bob. Play it tonight!"
    )
    assert reply.poll is None
    assert uow.committed_polls == []


# -- one-line refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("/feed on", "/feed"),
        ("/share on", "/share"),
        ("/recommend Hades", "/recommend"),
        ("/tonight", "/tonight"),
        ("/vote 1", "/vote"),
    ],
)
async def test_group_commands_in_a_private_chat_are_refused_in_one_line(
    uow: FakeUnitOfWork, router: ChatRouter, typed: str, command: str
) -> None:
    await say(router, in_private("Alice"), "/add Hades")
    reply = await say(router, in_private("Alice"), typed)
    assert reply.text == f"{command} works in group chats: add me to a group and type it there."
    assert uow.committed_groups == {}
    assert uow.committed_polls == []


@pytest.mark.parametrize(
    ("typed", "reply"),
    [
        ("/feed bogus", "Say on or off. Write it like /feed on"),
        ("/feed", "Say on or off. Write it like /feed on"),
        ("/share maybe", "Say on or off. Write it like /share on"),
    ],
)
async def test_a_switch_that_is_neither_on_nor_off_is_refused_in_one_line(
    uow: FakeUnitOfWork, router: ChatRouter, typed: str, reply: str
) -> None:
    assert (await say(router, ALICE, typed)).text == reply
    assert not feed_is_on(uow)
    assert not uow.committed_groups[FRIENDS].shares_of(1)


async def open_a_poll(router: ChatRouter) -> None:
    await say(router, BOB, "/share on")
    for speaker in (in_private("Alice"), in_private("Bob")):
        await say(router, speaker, "/add Hades")
        await say(router, speaker, "/add Tunic")
    assert (await say(router, ALICE, "/tonight")).poll is not None


@pytest.mark.parametrize(
    ("typed", "reply"),
    [
        ("/vote", "Vote with the number of a game in the list. Write it like /vote 2"),
        ("/vote abc", "Vote with the number of a game in the list. Write it like /vote 2"),
        ("/vote ²", "Vote with the number of a game in the list. Write it like /vote 2"),
        ("/vote -1", "Vote with the number of a game in the list. Write it like /vote 2"),
        (
            "/vote " + "9" * 5000,
            "Vote with the number of a game in the list. Write it like /vote 2",
        ),
        ("/vote 3", "Vote with a number from 1 to 2. Write it like /vote 2"),
        ("/vote 0", "Vote with a number from 1 to 2. Write it like /vote 2"),
    ],
    ids=["empty", "word", "superscript", "negative", "5000 digits", "too high", "zero"],
)
async def test_a_bad_vote_is_refused_in_one_line_and_counts_nothing(
    uow: FakeUnitOfWork, router: ChatRouter, typed: str, reply: str
) -> None:
    await open_a_poll(router)
    assert (await say(router, BOB, typed)).text == reply
    assert uow.committed_polls[-1].votes == {}


async def test_a_vote_with_no_poll_says_how_to_start_one(router: ChatRouter) -> None:
    assert (await say(router, BOB, "/vote 1")).text == (
        "There is no vote here yet; start one with /tonight."
    )


# -- /recommend and /wish in a group --------------------------------------------------------


async def test_recommend_posts_the_games_facts_and_cover_for_the_whole_group(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    await say(router, in_private("Bob"), "/add Celeste")
    await look_up_games(uow)
    await say(router, in_private("Bob"), "/done Celeste 9")
    reply = await say(router, BOB, "/recommend celest")
    assert reply.text == f"⭐ Bob recommends Celeste · 9/10\n{CELESTE_LINE}"
    assert (reply.image_url, reply.public) == (CELESTE.cover_url, True)


async def test_recommend_refuses_a_game_the_player_does_not_have(router: ChatRouter) -> None:
    reply = await say(router, BOB, "/recommend Factorio")
    assert reply.text == 'You have no game called "Factorio". See your games with /backlog all.'


async def test_wish_in_a_group_remembers_the_group_for_the_release_day(
    uow: FakeUnitOfWork, router: ChatRouter
) -> None:
    reply = await say(router, ALICE, "/wish Hades II")
    assert reply.text == "Added Hades II to your wishlist. I'll tell you on its release day."
    [game] = uow.committed_games.values()
    assert (game.status, game.added_in) == (GameStatus.WISHLIST, FRIENDS)


# -- memberships the router remembers ------------------------------------------------------


async def test_the_router_writes_a_membership_once_while_it_remembers_it(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    presence_writes: list[str] = []
    note_presence = group_service.note_presence

    async def counted(*, address: ChatAddress, **rest: Any) -> None:
        presence_writes.append(address.chat_id)
        await note_presence(address=address, **rest)

    monkeypatch.setattr(group_service, "note_presence", counted)
    router = ChatRouter(lambda: uow, command_table(), remembered_memberships=2)
    in_group = {
        name: Speaker("console", "alice", "Alice", f"group:{name}", is_group=True)
        for name in ("a", "b", "c")
    }
    for name in ("a", "b", "b", "a", "c", "a", "b"):
        await say(router, in_group[name], "/help")
    # Two held: "c" pushed out "b", the least recently used, so only "b" is written again.
    assert presence_writes == ["group:a", "group:b", "group:c", "group:b"]
    assert uow.committed_groups.keys() == {
        ChatAddress("console", f"group:{name}") for name in ("a", "b", "c")
    }
