"""SqlPlayerRepository against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.orm.models import PlayerRow
from questrya.users.domain import Account, AccountKey, Player
from questrya.users.repository import SqlPlayerRepository

SessionFactory = async_sessionmaker[AsyncSession]
ADA = AccountKey(platform="telegram", external_id="1001")


@asynccontextmanager
async def players_in(session_factory: SessionFactory) -> AsyncIterator[SqlPlayerRepository]:
    """A repository on a fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield SqlPlayerRepository(session)
        await session.commit()


async def count_players(session_factory: SessionFactory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count(PlayerRow.id))) or 0


async def test_unknown_account_has_no_player(session_factory: SessionFactory) -> None:
    async with players_in(session_factory) as players:
        assert await players.get_by_account(ADA) is None


async def test_add_then_get_by_account(session_factory: SessionFactory) -> None:
    async with players_in(session_factory) as players:
        added = await players.add(Player.first_seen(ADA, "Ada"))

    async with players_in(session_factory) as players:
        found = await players.get_by_account(ADA)

    assert added.id is not None
    assert added.accounts[0].player_id == added.id
    assert found is not None
    assert found.id == added.id
    assert [(a.key, a.display_name, a.player_id) for a in found.accounts] == [
        (ADA, "Ada", added.id)
    ]


async def test_an_account_key_is_platform_and_id_together(session_factory: SessionFactory) -> None:
    on_discord = AccountKey(platform="discord", external_id=ADA.external_id)
    async with players_in(session_factory) as players:
        ada = await players.add(Player.first_seen(ADA, "Ada"))
        other = await players.add(Player.first_seen(on_discord, "Someone else"))

    assert ada.id != other.id
    assert await count_players(session_factory) == 2


async def test_get_by_account_loads_every_account_of_the_player(
    session_factory: SessionFactory,
) -> None:
    on_discord = AccountKey(platform="discord", external_id="9876543210")
    linked = Player(
        accounts=[Account(key=ADA, display_name="Ada"), Account(key=on_discord, display_name="ada")]
    )
    async with players_in(session_factory) as players:
        await players.add(linked)
        await players.add(Player.first_seen(AccountKey("console", "grace"), "Grace"))

    async with players_in(session_factory) as players:
        by_telegram = await players.get_by_account(ADA)
        by_discord = await players.get_by_account(on_discord)

    assert by_telegram is not None
    assert by_discord is not None
    assert by_telegram.id == by_discord.id == linked.id
    assert [a.key for a in by_discord.accounts] == [ADA, on_discord]


async def test_add_after_another_session_stored_the_account_returns_that_player(
    session_factory: SessionFactory,
) -> None:
    # Two first commands at once: both saw no player; the other one committed first.
    async with session_factory() as late_session:
        async with players_in(session_factory) as players:
            first = await players.add(Player.first_seen(ADA, "Ada"))

        late = SqlPlayerRepository(late_session)
        owner = await late.add(Player.first_seen(ADA, "Ada (again)"))
        still_usable = await late.add(Player.first_seen(AccountKey("console", "x"), "X"))
        await late_session.commit()

    assert owner.id == first.id
    assert owner.accounts[0].display_name == "Ada"
    assert still_usable.id not in (None, first.id)
    assert await count_players(session_factory) == 2


async def test_rename_account(session_factory: SessionFactory) -> None:
    async with players_in(session_factory) as players:
        await players.add(Player.first_seen(ADA, "Ada"))

    async with players_in(session_factory) as players:
        await players.rename_account(ADA, "Ada Lovelace")

    async with players_in(session_factory) as players:
        found = await players.get_by_account(ADA)
    assert found is not None
    assert found.accounts[0].display_name == "Ada Lovelace"


async def test_display_names_too_long_to_store_are_cut(session_factory: SessionFactory) -> None:
    async with players_in(session_factory) as players:
        await players.add(Player.first_seen(ADA, "A" * 150))
        await players.rename_account(ADA, "B" * 150)

    async with players_in(session_factory) as players:
        found = await players.get_by_account(ADA)
    assert found is not None
    assert found.accounts[0].display_name == "B" * 100
