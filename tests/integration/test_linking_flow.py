"""Linking use cases on the real unit of work, SQLite and PostgreSQL: a merge with overlapping
games loses nothing, it is all or nothing, a code is used once even when raced, and /unlink
leaves both sides every game."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.errors import InvalidLinkCode, TooManyLinkAttempts
from questrya.common.values import GameStatus
from questrya.games import service as game_service
from questrya.linking import service
from questrya.linking.domain import hash_code, read_code
from questrya.unit_of_work import SqlUnitOfWork
from questrya.users import service as user_service
from tests.integration.conftest import RecordingJobQueue

SessionFactory = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TELEGRAM = ("telegram", "111")
DISCORD = ("discord", "222")
CONSOLE = ("console", "bob")


def at_now() -> datetime:
    return NOW


async def register(uow: SqlUnitOfWork, account: tuple[str, str]) -> int:
    platform, external_id = account
    player = await user_service.register(
        uow=uow, platform=platform, external_id=external_id, display_name=external_id
    )
    return player.id


async def ask_code(uow: SqlUnitOfWork, account: tuple[str, str]) -> str:
    issued = await service.issue_code(
        uow=uow, platform=account[0], external_id=account[1], is_group=False, clock=at_now
    )
    return issued.code


async def type_code(uow: SqlUnitOfWork, account: tuple[str, str], code: str) -> service.LinkRead:
    return await service.link_accounts(
        uow=uow,
        platform=account[0],
        external_id=account[1],
        code=code,
        is_group=False,
        clock=at_now,
    )


async def backlog(uow: SqlUnitOfWork, player_id: int) -> dict[str, tuple[str, int | None]]:
    games = await game_service.list_with_statuses(
        uow=uow, player_id=player_id, statuses=tuple(GameStatus)
    )
    return {g.title: (g.status, g.rating) for g in games}


async def player_of(uow: SqlUnitOfWork, account: tuple[str, str]) -> int:
    return await register(uow, account)


@pytest.fixture
async def two_players(uow: SqlUnitOfWork) -> tuple[int, int]:
    """Ada on Telegram and on Discord, each with a backlog; Hades and Tunic on both."""
    telegram, discord = await register(uow, TELEGRAM), await register(uow, DISCORD)
    for title in ("Hades", "Celeste", "Tunic"):
        await game_service.add_to_backlog(uow=uow, player_id=telegram, title=title)
    await game_service.mark_completed(uow=uow, player_id=telegram, title="Celeste", rating=9)
    await game_service.start_playing(uow=uow, player_id=telegram, title="Tunic")
    for title in ("HADES", "Outer Wilds", "tunic"):
        await game_service.add_to_backlog(uow=uow, player_id=discord, title=title)
    await game_service.mark_completed(uow=uow, player_id=discord, title="hades", rating=8)
    return telegram, discord


async def test_a_merge_with_overlapping_games_loses_nothing(
    uow: SqlUnitOfWork, two_players: tuple[int, int]
) -> None:
    telegram, discord = two_players

    linked = await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM))

    assert (linked.game_count, linked.merged_count) == (4, 2)
    assert await player_of(uow, DISCORD) == telegram
    assert await backlog(uow, telegram) == {
        "Hades": ("completed", 8),
        "Celeste": ("completed", 9),
        "Tunic": ("playing", None),
        "Outer Wilds": ("backlog", None),
    }
    assert await backlog(uow, discord) == {}


# The database refuses to move accounts, the merge's step after moving the games: the SQL each
# dialect takes to raise an integrity error from a trigger.
REFUSE_ACCOUNT_MOVES = {
    "sqlite": [
        "CREATE TRIGGER refuse_account_moves BEFORE UPDATE OF player_id ON accounts"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_account_moves() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = 'integrity_constraint_violation';"
        " END $$",
        "CREATE TRIGGER refuse_account_moves BEFORE UPDATE OF player_id ON accounts"
        " FOR EACH ROW EXECUTE FUNCTION refuse_account_moves()",
    ],
}
# PostgreSQL's test database outlives the test: the trigger must go.
ALLOW_ACCOUNT_MOVES = {
    "sqlite": ["DROP TRIGGER refuse_account_moves"],
    "postgresql": [
        "DROP TRIGGER refuse_account_moves ON accounts",
        "DROP FUNCTION refuse_account_moves",
    ],
}


async def run_sql(session_factory: SessionFactory, statements: dict[str, list[str]]) -> None:
    async with session_factory() as session:
        for statement in statements[session.get_bind().dialect.name]:
            await session.execute(text(statement))
        await session.commit()


async def test_a_merge_that_fails_midway_changes_nothing(
    uow: SqlUnitOfWork, session_factory: SessionFactory, two_players: tuple[int, int]
) -> None:
    telegram, discord = two_players
    code = await ask_code(uow, TELEGRAM)
    before = (await backlog(uow, telegram), await backlog(uow, discord))
    await run_sql(session_factory, REFUSE_ACCOUNT_MOVES)
    try:
        with pytest.raises(IntegrityError):
            await type_code(uow, DISCORD, code)
    finally:
        await run_sql(session_factory, ALLOW_ACCOUNT_MOVES)

    assert (await backlog(uow, telegram), await backlog(uow, discord)) == before
    assert await player_of(uow, DISCORD) == discord
    async with uow:
        stored = await uow.links.get_by_hash(hash_code(read_code(code)))
    assert stored is not None
    assert stored.used_at is None  # not used up by the attempt that failed


async def test_two_accounts_racing_for_one_code_link_only_one(
    session_factory: SessionFactory, uow: SqlUnitOfWork, two_players: tuple[int, int]
) -> None:
    await register(uow, CONSOLE)
    code = await ask_code(uow, TELEGRAM)

    def another_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(session_factory, RecordingJobQueue())

    results = await asyncio.gather(
        type_code(another_uow(), DISCORD, code),
        type_code(another_uow(), CONSOLE, code),
        return_exceptions=True,
    )

    refusals = [r for r in results if isinstance(r, BaseException)]
    assert len(refusals) == 1, results
    assert isinstance(refusals[0], InvalidLinkCode)
    assert refusals[0].reason == "used"


async def test_refused_codes_are_counted_across_units_of_work(
    uow: SqlUnitOfWork, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM)
    for _ in range(5):
        with pytest.raises(InvalidLinkCode):
            await type_code(uow, DISCORD, "ZZZZ-ZZZY")
    with pytest.raises(TooManyLinkAttempts) as refused:
        await type_code(uow, DISCORD, code)
    assert refused.value.minutes == 15


async def test_an_expired_code_is_refused(uow: SqlUnitOfWork, two_players: tuple[int, int]) -> None:
    code = await ask_code(uow, TELEGRAM)
    with pytest.raises(InvalidLinkCode) as refused:
        await service.link_accounts(
            uow=uow,
            platform="discord",
            external_id="222",
            code=code,
            is_group=False,
            clock=lambda: NOW + timedelta(minutes=10),
        )
    assert refused.value.reason == "expired"


async def test_unlink_leaves_each_side_every_game(
    uow: SqlUnitOfWork, two_players: tuple[int, int]
) -> None:
    telegram, _ = two_players
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM))
    shared = await backlog(uow, telegram)

    parted = await service.unlink_account(
        uow=uow, platform="discord", external_id="222", clock=at_now
    )

    leaving = await player_of(uow, DISCORD)
    assert leaving != telegram == await player_of(uow, TELEGRAM)
    assert await backlog(uow, leaving) == await backlog(uow, telegram) == shared
    assert parted.game_count == len(shared)
