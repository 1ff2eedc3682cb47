"""Linking use cases against the in-memory unit of work: codes, refusals, merges and unlinks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from questrya.common.errors import (
    AlreadyLinked,
    InvalidLinkCode,
    InvalidLinkCodeFormat,
    NothingToUnlink,
    PlatformAlreadyLinked,
    PrivateChatOnly,
    TooManyLinkAttempts,
)
from questrya.common.values import ChatAddress, GameStatus
from questrya.games import service as game_service
from questrya.groups import service as group_service
from questrya.linking import service
from questrya.linking.domain import hash_code, read_code
from questrya.users import service as user_service
from tests.fake_groups import FakeGroupRepository
from tests.fakes import FakeUnitOfWork

NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TELEGRAM = ("telegram", "111")
DISCORD = ("discord", "222")
OTHER_TELEGRAM = ("telegram", "333")
TG_GROUP = ChatAddress("telegram", "-100")
DC_GUILD = ChatAddress("discord", "chan-9")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def register(uow: FakeUnitOfWork, account: tuple[str, str]) -> int:
    platform, external_id = account
    player = await user_service.register(
        uow=uow, platform=platform, external_id=external_id, display_name=external_id
    )
    return player.id


async def ask_code(uow: FakeUnitOfWork, account: tuple[str, str], clock: Clock) -> str:
    platform, external_id = account
    issued = await service.issue_code(
        uow=uow, platform=platform, external_id=external_id, is_group=False, clock=clock
    )
    return issued.code


async def type_code(
    uow: FakeUnitOfWork, account: tuple[str, str], code: str, clock: Clock, *, group: bool = False
) -> service.LinkRead:
    platform, external_id = account
    return await service.link_accounts(
        uow=uow, platform=platform, external_id=external_id, code=code, is_group=group, clock=clock
    )


async def add(uow: FakeUnitOfWork, player_id: int, title: str, status: str = "backlog") -> None:
    await game_service.add_to_backlog(
        uow=uow, player_id=player_id, title=title, wishlist=status == "wishlist"
    )
    if status == "playing":
        await game_service.start_playing(uow=uow, player_id=player_id, title=title)
    if status == "completed":
        await game_service.mark_completed(uow=uow, player_id=player_id, title=title, rating=9)


def backlog_of(uow: FakeUnitOfWork, player_id: int) -> dict[str, GameStatus]:
    return {
        g.title.text: g.status for g in uow.committed_games.values() if g.player_id == player_id
    }


def player_of(uow: FakeUnitOfWork, account: tuple[str, str]) -> int:
    for player in uow.committed_players.values():
        if any((a.key.platform, a.key.external_id) == account for a in player.accounts):
            assert player.id is not None
            return player.id
    raise AssertionError(f"no player for {account}")


def state(uow: FakeUnitOfWork) -> str:
    """Everything but the refusal count, by value, to show a refused attempt changed nothing
    else (domain objects compare by identity, their repr by every field)."""
    stored = (uow.committed_games, uow.committed_players, uow.committed_groups)
    return repr((*stored, uow.committed_link_codes))


@pytest.fixture
async def two_players(uow: FakeUnitOfWork) -> tuple[int, int]:
    """A Telegram player and a Discord player, each with a backlog; one game on both."""
    telegram, discord = await register(uow, TELEGRAM), await register(uow, DISCORD)
    await add(uow, telegram, "Hades", "backlog")
    await add(uow, telegram, "Celeste", "completed")
    await add(uow, discord, "hades", "playing")
    await add(uow, discord, "Tunic", "wishlist")
    return telegram, discord


# -- asking for a code ----------------------------------------------------------------------


async def test_a_code_is_given_in_private_and_only_its_hash_is_stored(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    issued = await service.issue_code(
        uow=uow, platform="telegram", external_id="111", is_group=False, clock=clock
    )
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.code)
    assert (issued.valid_minutes, issued.expires_at) == (10, NOW + timedelta(minutes=10))
    (stored,) = uow.committed_link_codes.values()
    assert stored.code_hash == hash_code(read_code(issued.code))
    assert issued.code.replace("-", "") not in repr(uow.committed_link_codes)


async def test_asking_in_a_group_is_refused_and_stores_nothing(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    with pytest.raises(PrivateChatOnly, match="private chat"):
        await service.issue_code(
            uow=uow, platform="telegram", external_id="111", is_group=True, clock=clock
        )
    assert uow.committed_link_codes == {}


async def test_asking_again_replaces_the_unused_code(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    first = await ask_code(uow, TELEGRAM, clock)
    second = await ask_code(uow, TELEGRAM, clock)
    with pytest.raises(InvalidLinkCode) as refused:
        await type_code(uow, DISCORD, first, clock)
    assert refused.value.reason == "expired"
    await type_code(uow, DISCORD, second, clock)


# -- linking --------------------------------------------------------------------------------


async def test_linking_merges_both_backlogs_losing_nothing(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    telegram, _ = two_players
    code = await ask_code(uow, TELEGRAM, clock)

    linked = await type_code(uow, DISCORD, code.lower(), clock)

    assert (linked.platforms, linked.game_count, linked.merged_count) == (
        ["discord", "telegram"],
        3,
        1,
    )
    assert player_of(uow, DISCORD) == player_of(uow, TELEGRAM) == telegram
    assert backlog_of(uow, telegram) == {
        "Hades": GameStatus.PLAYING,
        "Celeste": GameStatus.COMPLETED,
        "Tunic": GameStatus.WISHLIST,
    }
    assert len(uow.committed_games) == 3


async def test_group_memberships_follow_the_joining_account(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    telegram, discord = two_players
    await group_service.set_sharing(
        uow=uow, address=DC_GUILD, player_id=discord, shares=True, is_group=True
    )
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    assert set(uow.committed_groups[DC_GUILD].members) == {telegram}
    assert uow.committed_groups[DC_GUILD].shares_of(telegram)


async def test_a_failure_midway_leaves_both_players_as_they_were(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM, clock)
    before = state(uow)

    class BrokenGroups(FakeGroupRepository):
        async def merge_members(self, *, from_player_id: int, into_player_id: int) -> None:
            raise ConnectionError("the database went away")

    original_begin = uow._begin

    async def begin_with_broken_groups() -> None:
        await original_begin()
        uow.fake_groups = uow.groups = BrokenGroups(uow.fake_groups.groups, uow.fake_groups.polls)

    uow._begin = begin_with_broken_groups  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await type_code(uow, DISCORD, code, clock)

    assert state(uow) == before
    uow._begin = original_begin  # type: ignore[method-assign]
    await type_code(uow, DISCORD, code, clock)  # the code was not used up


async def test_typing_ones_own_code_is_refused_and_not_counted(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM, clock)
    with pytest.raises(AlreadyLinked, match="this account's own"):
        await type_code(uow, TELEGRAM, code, clock)
    assert uow.committed_link_refusals == []
    await type_code(uow, DISCORD, code, clock)


async def test_one_account_per_platform(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    stranger = await register(uow, OTHER_TELEGRAM)
    code = await ask_code(uow, DISCORD, clock)
    before = state(uow)

    with pytest.raises(PlatformAlreadyLinked, match="telegram"):
        await type_code(uow, OTHER_TELEGRAM, code, clock)

    assert state(uow) == before
    assert player_of(uow, OTHER_TELEGRAM) == stranger


# -- refused codes --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["K7QM-4XP", "not a code", "K7QM-4XP0"])
async def test_a_malformed_code_says_how_it_looks_and_is_not_counted(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int], typed: str
) -> None:
    with pytest.raises(InvalidLinkCodeFormat):
        await type_code(uow, DISCORD, typed, clock)
    assert uow.committed_link_refusals == []


async def test_a_wrong_code_is_refused_counted_and_changes_nothing_else(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM, clock)
    wrong = "ABCD-EFGH" if code != "ABCD-EFGH" else "ABCD-EFGJ"
    before = state(uow)

    with pytest.raises(InvalidLinkCode) as refused:
        await type_code(uow, DISCORD, wrong, clock)

    assert refused.value.reason == "wrong"
    assert state(uow) == before
    assert len(uow.committed_link_refusals) == 1


async def test_an_expired_code_is_refused(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM, clock)
    clock.now += timedelta(minutes=10)
    with pytest.raises(InvalidLinkCode) as refused:
        await type_code(uow, DISCORD, code, clock)
    assert refused.value.reason == "expired"
    assert player_of(uow, DISCORD) != player_of(uow, TELEGRAM)


async def test_a_code_works_once(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM, clock)
    await type_code(uow, DISCORD, code, clock)
    await register(uow, OTHER_TELEGRAM)
    with pytest.raises(InvalidLinkCode) as refused:
        await type_code(uow, OTHER_TELEGRAM, code, clock)
    assert refused.value.reason == "used"


async def test_after_five_refusals_even_the_right_code_waits(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    for _ in range(5):
        with pytest.raises(InvalidLinkCode):
            await type_code(uow, DISCORD, "ZZZZ-ZZZZ", clock)
        clock.now += timedelta(minutes=1)
    code = await ask_code(uow, TELEGRAM, clock)

    with pytest.raises(TooManyLinkAttempts) as refused:
        await type_code(uow, DISCORD, code, clock)
    assert refused.value.minutes == 10
    assert "try again in 10 minutes" in refused.value.message

    clock.now += timedelta(minutes=10)
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    assert player_of(uow, DISCORD) == player_of(uow, TELEGRAM)


async def test_refusals_are_counted_per_account(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    await register(uow, OTHER_TELEGRAM)
    for _ in range(5):
        with pytest.raises(InvalidLinkCode):
            await type_code(uow, OTHER_TELEGRAM, "ZZZZ-ZZZZ", clock)
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)


async def test_a_code_typed_in_a_group_is_refused_and_no_longer_works(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    code = await ask_code(uow, TELEGRAM, clock)
    with pytest.raises(PrivateChatOnly, match="no longer works"):
        await type_code(uow, DISCORD, code, clock, group=True)
    with pytest.raises(InvalidLinkCode) as refused:
        await type_code(uow, DISCORD, code, clock)
    assert refused.value.reason == "expired"


# -- unlinking ------------------------------------------------------------------------------


async def test_unlink_gives_the_leaving_account_a_copy_of_the_backlog(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    telegram, _ = two_players
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    shared = backlog_of(uow, telegram)

    parted = await service.unlink_account(
        uow=uow, platform="discord", external_id="222", clock=clock
    )

    leaving = player_of(uow, DISCORD)
    assert leaving != telegram == player_of(uow, TELEGRAM)
    assert backlog_of(uow, leaving) == backlog_of(uow, telegram) == shared
    assert (parted.platform, parted.remaining_platforms, parted.game_count) == (
        "discord",
        ["telegram"],
        3,
    )


async def test_unlink_takes_the_groups_of_the_leaving_platform(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    telegram, _ = two_players
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    for address in (TG_GROUP, DC_GUILD):
        await group_service.set_sharing(
            uow=uow, address=address, player_id=telegram, shares=True, is_group=True
        )

    await service.unlink_account(uow=uow, platform="discord", external_id="222", clock=clock)

    assert set(uow.committed_groups[TG_GROUP].members) == {telegram}
    assert set(uow.committed_groups[DC_GUILD].members) == {player_of(uow, DISCORD)}
    assert uow.committed_groups[DC_GUILD].shares_of(player_of(uow, DISCORD))


async def test_unlink_looks_up_copies_still_waiting_for_their_facts(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    await service.unlink_account(uow=uow, platform="discord", external_id="222", clock=clock)
    copies = [g.id for g in uow.committed_games.values() if g.player_id == player_of(uow, DISCORD)]
    assert {f"fetch-metadata-{game_id}" for game_id in copies} <= set(uow.job_queue.jobs)


async def test_unlink_ends_a_code_the_pair_had_asked_for(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    await type_code(uow, DISCORD, await ask_code(uow, TELEGRAM, clock), clock)
    code = await ask_code(uow, DISCORD, clock)
    await service.unlink_account(uow=uow, platform="discord", external_id="222", clock=clock)
    await register(uow, ("console", "ada"))
    with pytest.raises(InvalidLinkCode):
        await type_code(uow, ("console", "ada"), code, clock)


async def test_unlink_of_an_account_on_its_own_is_refused(
    uow: FakeUnitOfWork, clock: Clock, two_players: tuple[int, int]
) -> None:
    before = state(uow)
    with pytest.raises(NothingToUnlink):
        await service.unlink_account(uow=uow, platform="discord", external_id="222", clock=clock)
    assert state(uow) == before
