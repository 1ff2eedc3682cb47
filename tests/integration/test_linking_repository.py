"""The SQL side of linking on real SQLite and PostgreSQL: link codes and refusals, moving and
detaching accounts, copying a backlog, handing over group memberships."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.values import ChatAddress, GameRating, GameStatus, Platform, Title
from questrya.games.domain import Game, LookupState
from questrya.games.repository import SqlGameRepository
from questrya.groups.repository import SqlGroupRepository
from questrya.linking.domain import LinkCode
from questrya.linking.repository import SqlLinkRepository
from questrya.users.domain import AccountKey, Player
from questrya.users.repository import SqlPlayerRepository

SessionFactory = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
ADA = AccountKey("console", "ada")  # the conftest's `player_id`
TELEGRAM = AccountKey("telegram", "111")
DISCORD = AccountKey("discord", "222")


@asynccontextmanager
async def session_in(session_factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield session
        await session.commit()


def a_code(player_id: int, code: str = "K7QM4XPA", on: datetime = NOW) -> LinkCode:
    return LinkCode.issue(code=code, player_id=player_id, issued_by=ADA, on=on)


async def store_code(session_factory: SessionFactory, link_code: LinkCode) -> LinkCode:
    async with session_in(session_factory) as session:
        return await SqlLinkRepository(session).add(link_code)


async def get_code(session_factory: SessionFactory, code_hash: str) -> LinkCode | None:
    async with session_in(session_factory) as session:
        return await SqlLinkRepository(session).get_by_hash(code_hash)


# -- link codes -----------------------------------------------------------------------------


async def test_a_code_round_trips(session_factory: SessionFactory, player_id: int) -> None:
    stored = await store_code(session_factory, a_code(player_id))
    found = await get_code(session_factory, stored.code_hash)
    assert found is not None
    assert (found.id, found.player_id, found.issued_by) == (stored.id, player_id, ADA)
    assert (found.issued_at, found.expires_at, found.used_at) == (
        NOW,
        NOW + timedelta(minutes=10),
        None,
    )
    assert await get_code(session_factory, "0" * 64) is None


async def test_a_code_is_claimed_once(session_factory: SessionFactory, player_id: int) -> None:
    stored = await store_code(session_factory, a_code(player_id))
    async with session_in(session_factory) as session:
        assert await SqlLinkRepository(session).claim(stored, on=NOW)
    stale = a_code(player_id)
    stale.id = stored.id  # a second account that read the code before the first claimed it
    async with session_in(session_factory) as session:
        assert not await SqlLinkRepository(session).claim(stale, on=NOW + timedelta(seconds=1))
    found = await get_code(session_factory, stored.code_hash)
    assert found is not None
    assert found.used_at == NOW


async def test_expire_unused_ends_only_the_players_live_codes(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    live = await store_code(session_factory, a_code(player_id, "AAAAAAAA"))
    used = await store_code(session_factory, a_code(player_id, "BBBBBBBB"))
    others = await store_code(session_factory, a_code(other_player_id, "CCCCCCCC"))
    later = NOW + timedelta(minutes=3)
    async with session_in(session_factory) as session:
        links = SqlLinkRepository(session)
        await links.claim(used, on=NOW)
        await links.expire_unused(player_id, on=later)

    expiries = [await get_code(session_factory, c.code_hash) for c in (live, used, others)]
    assert [c.expires_at if c else None for c in expiries] == [
        later,
        NOW + timedelta(minutes=10),
        NOW + timedelta(minutes=10),
    ]


async def test_expire_by_hash_ends_that_code(
    session_factory: SessionFactory, player_id: int
) -> None:
    stored = await store_code(session_factory, a_code(player_id))
    async with session_in(session_factory) as session:
        await SqlLinkRepository(session).expire_by_hash(stored.code_hash, on=NOW)
    found = await get_code(session_factory, stored.code_hash)
    assert found is not None
    assert found.expires_at == NOW


async def test_ended_codes_are_forgotten(session_factory: SessionFactory, player_id: int) -> None:
    old = await store_code(session_factory, a_code(player_id, "AAAAAAAA", NOW - timedelta(days=2)))
    recent = await store_code(session_factory, a_code(player_id, "BBBBBBBB"))
    async with session_in(session_factory) as session:
        await SqlLinkRepository(session).forget_ended_before(NOW - timedelta(days=1))
    assert await get_code(session_factory, old.code_hash) is None
    assert await get_code(session_factory, recent.code_hash) is not None


async def test_refusals_are_counted_per_account_and_forgotten_when_old(
    session_factory: SessionFactory, player_id: int
) -> None:
    moments = [NOW - timedelta(minutes=m) for m in (20, 10, 1)]
    async with session_in(session_factory) as session:
        links = SqlLinkRepository(session)
        for moment in moments:
            await links.add_refusal(ADA, on=moment)
        await links.add_refusal(DISCORD, on=NOW)
    async with session_in(session_factory) as session:
        links = SqlLinkRepository(session)
        assert await links.refusals_since(ADA, NOW - timedelta(minutes=15)) == moments[1:]
        await links.forget_refusals_before(ADA, NOW - timedelta(minutes=15))
    async with session_in(session_factory) as session:
        links = SqlLinkRepository(session)
        assert await links.refusals_since(ADA, NOW - timedelta(days=1)) == moments[1:]
        assert await links.refusals_since(DISCORD, NOW - timedelta(days=1)) == [NOW]


# -- players, games and groups --------------------------------------------------------------


async def add_player(session_factory: SessionFactory, key: AccountKey) -> int:
    async with session_in(session_factory) as session:
        player = await SqlPlayerRepository(session).add(Player.first_seen(key, key.external_id))
    assert player.id is not None
    return player.id


async def test_moving_accounts_makes_one_player(session_factory: SessionFactory) -> None:
    telegram = await add_player(session_factory, TELEGRAM)
    discord = await add_player(session_factory, DISCORD)
    async with session_in(session_factory) as session:
        await SqlPlayerRepository(session).move_accounts(
            from_player_id=discord, to_player_id=telegram
        )
    async with session_in(session_factory) as session:
        players = SqlPlayerRepository(session)
        merged = await players.get(telegram)
        assert await players.get(discord) is None
        via_discord = await players.get_by_account(DISCORD)
    assert merged is not None
    assert [a.key for a in merged.accounts] == [TELEGRAM, DISCORD]
    assert via_discord is not None
    assert via_discord.id == telegram


async def test_detaching_an_account_gives_it_a_new_player(session_factory: SessionFactory) -> None:
    telegram = await add_player(session_factory, TELEGRAM)
    discord = await add_player(session_factory, DISCORD)
    async with session_in(session_factory) as session:
        players = SqlPlayerRepository(session)
        await players.move_accounts(from_player_id=discord, to_player_id=telegram)
        detached = await players.detach_account(DISCORD)
    async with session_in(session_factory) as session:
        staying = await SqlPlayerRepository(session).get(telegram)
    assert detached.id not in (telegram, discord)
    assert [(a.key, a.player_id) for a in detached.accounts] == [(DISCORD, detached.id)]
    assert staying is not None
    assert [a.key for a in staying.accounts] == [TELEGRAM]


async def test_copy_games_copies_every_field_and_keeps_the_originals(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    original = Game(
        player_id=player_id,
        title=Title("Hades"),
        added_at=NOW - timedelta(days=9),
        platform=Platform.SWITCH,
        status=GameStatus.COMPLETED,
        rating=GameRating(9),
        started_at=NOW - timedelta(days=8),
        completed_at=NOW - timedelta(days=1),
        added_in=ChatAddress("telegram", "111"),
        lookup=LookupState.NOT_FOUND,
    )
    async with session_in(session_factory) as session:
        games = SqlGameRepository(session)
        await games.add(original)
        await games.add(Game(player_id=player_id, title=Title("Celeste"), added_at=NOW))
        await games.copy_games(from_player_id=player_id, to_player_id=other_player_id)
    async with session_in(session_factory) as session:
        games = SqlGameRepository(session)
        copies = await games.list_with_statuses(other_player_id, tuple(GameStatus))
        originals = await games.list_with_statuses(player_id, tuple(GameStatus))

    assert (
        [g.title.text for g in copies] == [g.title.text for g in originals] == ["Hades", "Celeste"]
    )
    hades = copies[0]
    assert hades.id != original.id
    assert (hades.player_id, hades.platform, hades.status, hades.rating) == (
        other_player_id,
        Platform.SWITCH,
        GameStatus.COMPLETED,
        GameRating(9),
    )
    assert (hades.added_at, hades.started_at, hades.completed_at) == (
        original.added_at,
        original.started_at,
        original.completed_at,
    )
    assert (hades.added_in, hades.lookup) == (original.added_in, LookupState.NOT_FOUND)


async def test_group_memberships_of_one_platform_are_handed_over(
    session_factory: SessionFactory, player_id: int, other_player_id: int
) -> None:
    guild, group = ChatAddress("discord", "chan-9"), ChatAddress("telegram", "-100")
    async with session_in(session_factory) as session:
        groups = SqlGroupRepository(session)
        for address in (guild, group):
            await groups.note_member(address, player_id, on=NOW)
    async with session_in(session_factory) as session:
        await SqlGroupRepository(session).hand_over_members(
            platform="discord", from_player_id=player_id, to_player_id=other_player_id
        )
    async with session_in(session_factory) as session:
        groups = SqlGroupRepository(session)
        assert set((await groups.get(guild)).members) == {other_player_id}
        assert set((await groups.get(group)).members) == {player_id}
