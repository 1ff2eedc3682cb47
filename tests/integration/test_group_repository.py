"""SqlGroupRepository against real SQLite and PostgreSQL databases: memberships, the feed
switch, feeds a player shares to, merging linked players' memberships, and polls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.values import ChatAddress
from questrya.groups.domain import Group, GroupPoll, Membership
from questrya.groups.repository import SqlGroupRepository
from questrya.users.domain import AccountKey, Player
from questrya.users.repository import SqlPlayerRepository

SessionFactory = async_sessionmaker[AsyncSession]
FRIENDS = ChatAddress("console", "group:friends")
WORK = ChatAddress("console", "group:work")
TELEGRAM_GROUP = ChatAddress("telegram", "-1001234567890")
DISCORD_CHANNEL = ChatAddress("discord", "123456789012345678")
MONDAY = datetime(2026, 11, 23, 20, 0, 0, 123456, tzinfo=UTC)


@asynccontextmanager
async def groups_in(session_factory: SessionFactory) -> AsyncIterator[SqlGroupRepository]:
    """A repository on a fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield SqlGroupRepository(session)
        await session.commit()


async def a_player(session_factory: SessionFactory, name: str) -> int:
    async with session_factory() as session:
        player = await SqlPlayerRepository(session).add(
            Player.first_seen(AccountKey("console", name), name)
        )
        await session.commit()
    assert player.id is not None
    return player.id


async def get(session_factory: SessionFactory, address: ChatAddress) -> Group:
    async with groups_in(session_factory) as groups:
        return await groups.get(address)


def memberships(group: Group) -> dict[int, tuple[datetime, bool]]:
    return {player_id: (m.joined_at, m.shares) for player_id, m in group.members.items()}


async def save_group(
    session_factory: SessionFactory,
    address: ChatAddress,
    *,
    feed_enabled: bool,
    members: dict[int, bool],
) -> None:
    """Store a group whose members (id -> shares) joined a minute apart, in that order."""
    group = Group(address, feed_enabled=feed_enabled)
    for minutes, (player_id, shares) in enumerate(members.items()):
        group.members[player_id] = Membership(
            player_id, MONDAY + timedelta(minutes=minutes), shares
        )
    async with groups_in(session_factory) as groups:
        await groups.save(group, on=MONDAY)


# -- groups and their members ---------------------------------------------------------------


async def test_a_group_never_seen_is_empty_with_its_feed_off(
    session_factory: SessionFactory,
) -> None:
    group = await get(session_factory, FRIENDS)
    assert (group.address, group.feed_enabled, group.members) == (FRIENDS, False, {})


async def test_save_then_get_round_trips_the_feed_and_every_membership(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    paris = timezone(timedelta(hours=1))
    group = Group(TELEGRAM_GROUP)
    group.meet(player_id, on=MONDAY.astimezone(paris))
    group.set_sharing(other_player_id, shares=True, on=MONDAY + timedelta(seconds=1))
    group.switch_feed(by=player_id, enabled=True, is_admin=None)
    async with groups_in(session_factory) as groups:
        await groups.save(group, on=MONDAY)

    loaded = await get(session_factory, TELEGRAM_GROUP)
    assert loaded.feed_enabled
    assert memberships(loaded) == {
        player_id: (MONDAY, False),
        other_player_id: (MONDAY + timedelta(seconds=1), True),
    }
    assert loaded.members[player_id].joined_at.tzinfo == UTC
    assert loaded.founder_id == player_id
    assert (await get(session_factory, FRIENDS)).members == {}


async def test_saving_again_updates_the_feed_and_sharing(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    await save_group(
        session_factory,
        FRIENDS,
        feed_enabled=True,
        members={player_id: True, other_player_id: True},
    )
    group = await get(session_factory, FRIENDS)
    group.switch_feed(by=player_id, enabled=False, is_admin=None)
    group.set_sharing(other_player_id, shares=False, on=MONDAY)
    async with groups_in(session_factory) as groups:
        await groups.save(group, on=MONDAY + timedelta(days=1))

    loaded = await get(session_factory, FRIENDS)
    assert not loaded.feed_enabled
    assert {p: m.shares for p, m in loaded.members.items()} == {
        player_id: True,
        other_player_id: False,
    }


async def test_noting_a_member_twice_keeps_the_first_membership(
    session_factory: SessionFactory, player_id: int
) -> None:
    async with groups_in(session_factory) as groups:
        await groups.note_member(FRIENDS, player_id, on=MONDAY)
    async with groups_in(session_factory) as groups:
        await groups.note_member(FRIENDS, player_id, on=MONDAY + timedelta(days=1))
        await groups.note_member(FRIENDS, player_id, on=MONDAY + timedelta(days=2))

    assert memberships(await get(session_factory, FRIENDS)) == {player_id: (MONDAY, False)}


async def test_noting_a_sharing_member_again_keeps_them_sharing(
    session_factory: SessionFactory, player_id: int
) -> None:
    await save_group(session_factory, FRIENDS, feed_enabled=True, members={player_id: True})
    async with groups_in(session_factory) as groups:
        await groups.note_member(FRIENDS, player_id, on=MONDAY + timedelta(days=1))
    assert memberships(await get(session_factory, FRIENDS)) == {player_id: (MONDAY, True)}


# -- feeds a player shares to ---------------------------------------------------------------


async def test_feeds_shared_by_are_the_groups_with_the_feed_on_where_the_player_shares(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    await save_group(session_factory, WORK, feed_enabled=True, members={player_id: True})
    await save_group(session_factory, DISCORD_CHANNEL, feed_enabled=True, members={player_id: True})
    await save_group(
        session_factory,
        FRIENDS,
        feed_enabled=True,
        members={player_id: False, other_player_id: True},
    )
    await save_group(session_factory, TELEGRAM_GROUP, feed_enabled=False, members={player_id: True})
    async with groups_in(session_factory) as groups:
        await groups.note_member(ChatAddress("console", "group:quiet"), player_id, on=MONDAY)

    async with groups_in(session_factory) as groups:
        assert await groups.feeds_shared_by(player_id) == [WORK, DISCORD_CHANNEL]
        assert await groups.feeds_shared_by(other_player_id) == [FRIENDS]


# -- merging linked players -----------------------------------------------------------------


async def test_merging_members_keeps_every_group_and_shares_if_either_shared(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    kept, joining = player_id, other_player_id
    bystander = await a_player(session_factory, "carol")
    friends_channel = ChatAddress("discord", "friends")
    await save_group(
        session_factory, FRIENDS, feed_enabled=True, members={kept: False, joining: True}
    )
    await save_group(session_factory, WORK, feed_enabled=True, members={joining: False, kept: True})
    await save_group(
        session_factory,
        TELEGRAM_GROUP,
        feed_enabled=True,
        members={joining: False, bystander: True},
    )
    await save_group(session_factory, friends_channel, feed_enabled=True, members={kept: False})
    await save_group(session_factory, DISCORD_CHANNEL, feed_enabled=True, members={joining: True})

    async with groups_in(session_factory) as groups:
        await groups.merge_members(from_player_id=joining, into_player_id=kept)

    shares = {
        address.chat_id: {
            p: m.shares for p, m in (await get(session_factory, address)).members.items()
        }
        for address in (FRIENDS, WORK, TELEGRAM_GROUP, friends_channel, DISCORD_CHANNEL)
    }
    assert shares == {
        FRIENDS.chat_id: {kept: True},
        WORK.chat_id: {kept: True},
        TELEGRAM_GROUP.chat_id: {kept: False, bystander: True},
        friends_channel.chat_id: {kept: False},
        DISCORD_CHANNEL.chat_id: {kept: True},
    }
    async with groups_in(session_factory) as groups:
        assert await groups.feeds_shared_by(joining) == []
        assert await groups.feeds_shared_by(kept) == [FRIENDS, WORK, DISCORD_CHANNEL]


async def test_merging_members_leaves_other_players_alone(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    bystander = await a_player(session_factory, "carol")
    await save_group(
        session_factory,
        FRIENDS,
        feed_enabled=True,
        members={bystander: True, other_player_id: False},
    )
    async with groups_in(session_factory) as groups:
        await groups.merge_members(from_player_id=player_id, into_player_id=other_player_id)
    group = await get(session_factory, FRIENDS)
    assert {p: m.shares for p, m in group.members.items()} == {
        bystander: True,
        other_player_id: False,
    }


# -- polls ----------------------------------------------------------------------------------


def a_poll(address: ChatAddress, created_by: int, *options: str) -> GroupPoll:
    return GroupPoll(
        address=address,
        question="What shall we play tonight?",
        options=options,
        created_by=created_by,
        created_at=MONDAY,
    )


async def latest(session_factory: SessionFactory, address: ChatAddress) -> GroupPoll | None:
    async with groups_in(session_factory) as groups:
        return await groups.latest_poll(address)


async def test_a_group_with_no_poll_has_no_latest_poll(session_factory: SessionFactory) -> None:
    assert await latest(session_factory, FRIENDS) is None


async def test_an_added_poll_gets_an_id_and_comes_back_whole(
    session_factory: SessionFactory, player_id: int
) -> None:
    async with groups_in(session_factory) as groups:
        poll = await groups.add_poll(a_poll(FRIENDS, player_id, "Hades", "Pokémon: Red"))
    assert poll.id is not None

    loaded = await latest(session_factory, FRIENDS)
    assert loaded is not None
    assert (loaded.id, loaded.address, loaded.question) == (
        poll.id,
        FRIENDS,
        "What shall we play tonight?",
    )
    assert (loaded.options, loaded.created_by, loaded.created_at) == (
        ("Hades", "Pokémon: Red"),
        player_id,
        MONDAY,
    )
    assert loaded.votes == {}


async def test_the_latest_poll_is_the_groups_newest(
    session_factory: SessionFactory, player_id: int
) -> None:
    async with groups_in(session_factory) as groups:
        await groups.add_poll(a_poll(FRIENDS, player_id, "Hades", "Tunic"))
        newest = await groups.add_poll(a_poll(FRIENDS, player_id, "Celeste", "Tunic"))
        elsewhere = await groups.add_poll(a_poll(WORK, player_id, "Doom", "Quake"))

    loaded = await latest(session_factory, FRIENDS)
    assert loaded is not None
    assert (loaded.id, loaded.options) == (newest.id, ("Celeste", "Tunic"))
    work = await latest(session_factory, WORK)
    assert work is not None
    assert work.id == elsewhere.id


async def test_voting_again_replaces_the_stored_vote(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    async with groups_in(session_factory) as groups:
        poll = await groups.add_poll(a_poll(FRIENDS, player_id, "Hades", "Tunic", "Celeste"))
        poll.vote(player_id, 1)
        await groups.save_vote(poll, player_id, on=MONDAY)
        poll.vote(other_player_id, 3)
        await groups.save_vote(poll, other_player_id, on=MONDAY)
    async with groups_in(session_factory) as groups:
        stored = await groups.latest_poll(FRIENDS)
        assert stored is not None
        stored.vote(player_id, 2)
        await groups.save_vote(stored, player_id, on=MONDAY + timedelta(minutes=1))

    loaded = await latest(session_factory, FRIENDS)
    assert loaded is not None
    assert loaded.votes == {player_id: 1, other_player_id: 2}
    assert loaded.tally() == [("Hades", 0), ("Tunic", 1), ("Celeste", 1)]


async def test_merging_members_moves_their_votes_and_keeps_one_per_poll(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    async with groups_in(session_factory) as groups:
        both_voted = await groups.add_poll(a_poll(FRIENDS, player_id, "Hades", "Tunic"))
        one_voted = await groups.add_poll(a_poll(WORK, player_id, "Doom", "Quake"))
        for poll, voter, number in (
            (both_voted, player_id, 1),
            (both_voted, other_player_id, 2),
            (one_voted, other_player_id, 2),
        ):
            poll.vote(voter, number)
            await groups.save_vote(poll, voter, on=MONDAY)
    async with groups_in(session_factory) as groups:
        await groups.merge_members(from_player_id=other_player_id, into_player_id=player_id)

    friends, work = await latest(session_factory, FRIENDS), await latest(session_factory, WORK)
    assert friends is not None
    assert work is not None
    assert friends.votes == {player_id: 0}  # the kept player's own vote stays
    assert work.votes == {player_id: 1}


async def test_a_group_that_moves_takes_its_feed_members_and_polls_along(
    session_factory: SessionFactory, player_id: int
) -> None:
    supergroup = ChatAddress("telegram", "-1009876543210")
    await save_group(session_factory, TELEGRAM_GROUP, feed_enabled=True, members={player_id: True})
    async with groups_in(session_factory) as groups:
        poll = await groups.add_poll(a_poll(TELEGRAM_GROUP, player_id, "Hades", "Tunic"))
        await groups.move_chat(TELEGRAM_GROUP, supergroup)

    moved = await get(session_factory, supergroup)
    assert (moved.feed_enabled, moved.shares_of(player_id)) == (True, True)
    assert (await get(session_factory, TELEGRAM_GROUP)).members == {}
    moved_poll = await latest(session_factory, supergroup)
    assert moved_poll is not None
    assert moved_poll.id == poll.id
    async with groups_in(session_factory) as groups:
        assert await groups.feeds_shared_by(player_id) == [supergroup]
