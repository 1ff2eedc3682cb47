"""Use cases of linked accounts: /link gives a one-time code, /link CODE makes two accounts one
player, /unlink parts them again. Each runs in one unit of work: all of it happens, or none.

Merging keeps the player who asked for the code; the account typing it brings its games (see
`Game.absorb` for two copies of one game), its accounts and its group memberships. The emptied
player row stays, without accounts or games, so rows of other slices that name it keep meaning.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from questrya.common.clock import Clock, utc_now
from questrya.common.errors import (
    InvalidLinkCode,
    InvalidLinkCodeFormat,
    PrivateChatOnly,
    TooManyLinkAttempts,
)
from questrya.common.values import GameStatus
from questrya.games import service as game_service
from questrya.games.domain import Game, LookupState, merge_backlogs
from questrya.linking.domain import (
    CODE_RETENTION,
    REFUSAL_WINDOW,
    LinkCode,
    hash_code,
    new_code,
    read_code,
    require_joinable,
    require_linked,
    require_usable,
    shown,
    wait_after_refusals,
    whole_minutes,
)
from questrya.linking.schemas import LinkCodeRead, LinkRead, UnlinkRead
from questrya.unit_of_work import UnitOfWork
from questrya.users.domain import AccountKey, Player

ALL_STATUSES = tuple(GameStatus)
ASK_IN_PRIVATE = "Ask for /link in a private chat with me: a link code must not be seen by others."
CODE_SEEN = (
    "Type link codes only in a private chat with me; that one no longer works, "
    "so ask /link there for a new one."
)
UNLINK_IN_PRIVATE = "Type /unlink in a private chat with me, where your accounts stay private."


async def issue_code(
    *, uow: UnitOfWork, platform: str, external_id: str, is_group: bool, clock: Clock = utc_now
) -> LinkCodeRead:
    """A one-time code for this account's player, replacing the player's unused one."""
    if is_group:
        raise PrivateChatOnly(ASK_IN_PRIVATE)
    key, now, code = AccountKey(platform, external_id), clock(), new_code()
    async with uow:
        player_id = _id(await _player_of(uow, key))
        await uow.links.expire_unused(player_id, on=now)
        await uow.links.forget_ended_before(now - CODE_RETENTION)
        issued = LinkCode.issue(code=code, player_id=player_id, issued_by=key, on=now)
        await uow.links.add(issued)
        await uow.commit()
    return LinkCodeRead(
        code=shown(code), expires_at=issued.expires_at, valid_minutes=issued.valid_minutes
    )


async def link_accounts(
    *,
    uow: UnitOfWork,
    platform: str,
    external_id: str,
    code: str,
    is_group: bool,
    clock: Clock = utc_now,
) -> LinkRead:
    """Join this account's player to the player whose code it typed: one backlog for both."""
    key, now = AccountKey(platform, external_id), clock()
    if is_group:
        await _burn(uow, code, on=now)
        raise PrivateChatOnly(CODE_SEEN)
    typed = read_code(code)
    async with uow:
        joining = await _player_of(uow, key)
        await _refuse_if_too_many(uow, key, on=now)
        link_code = await _usable_code(uow, key, typed, on=now)
        owner = await uow.players.get(link_code.player_id)
        if owner is None:  # its accounts joined another player since: the code is void
            await _refuse(uow, key, InvalidLinkCode("expired"), on=now)
        require_joinable(link_code, owner, joining, typed_by=key)
        if not await uow.links.claim(link_code, on=now):
            await _refuse(uow, key, InvalidLinkCode("used"), on=now)
        result = await _merge(uow, owner=owner, joining=joining, on=now)
        await uow.commit()
    return result


async def unlink_account(
    *,
    uow: UnitOfWork,
    platform: str,
    external_id: str,
    is_group: bool = False,
    clock: Clock = utc_now,
) -> UnlinkRead:
    """Part this account from its player: it leaves with its own copy of the shared backlog,
    and with its platform's group memberships; the other accounts keep the original."""
    if is_group:
        raise PrivateChatOnly(UNLINK_IN_PRIVATE)
    key, now = AccountKey(platform, external_id), clock()
    async with uow:
        staying = await _player_of(uow, key)
        require_linked(staying)
        leaving_id = _id(await uow.players.detach_account(key))
        await uow.games.copy_games(from_player_id=_id(staying), to_player_id=leaving_id)
        await uow.groups.hand_over_members(
            platform=platform, from_player_id=_id(staying), to_player_id=leaving_id
        )
        await uow.links.expire_unused(_id(staying), on=now)
        copies = await uow.games.list_with_statuses(leaving_id, ALL_STATUSES)
        _look_up_pending(uow, copies)
        await uow.commit()
    remaining = sorted(a.key.platform for a in staying.accounts if a.key != key)
    return UnlinkRead(platform=platform, remaining_platforms=remaining, game_count=len(copies))


async def _merge(uow: UnitOfWork, *, owner: Player, joining: Player, on: datetime) -> LinkRead:
    owner_id, joining_id = _id(owner), _id(joining)
    kept = await uow.games.list_with_statuses(owner_id, ALL_STATUSES)
    incoming = await uow.games.list_with_statuses(joining_id, ALL_STATUSES)
    merge = merge_backlogs(kept, incoming, into_player_id=owner_id)
    for duplicate in merge.absorbed:
        await uow.games.remove(duplicate)
    for game in [*merge.absorbing, *merge.moved]:
        await uow.games.save(game)
    await uow.players.move_accounts(from_player_id=joining_id, to_player_id=owner_id)
    await uow.groups.merge_members(from_player_id=joining_id, into_player_id=owner_id)
    await uow.links.expire_unused(joining_id, on=on)
    platforms = sorted(a.key.platform for a in [*owner.accounts, *joining.accounts])
    return LinkRead(
        platforms=platforms,
        game_count=len(kept) + len(merge.moved),
        merged_count=len(merge.absorbed),
    )


async def _refuse_if_too_many(uow: UnitOfWork, key: AccountKey, *, on: datetime) -> None:
    """Even a right code waits once the account has had too many refused lately."""
    wait = wait_after_refusals(await uow.links.refusals_since(key, on - REFUSAL_WINDOW), now=on)
    if wait is not None:
        raise TooManyLinkAttempts(whole_minutes(wait))


async def _usable_code(uow: UnitOfWork, key: AccountKey, typed: str, *, on: datetime) -> LinkCode:
    found = await uow.links.get_by_hash(hash_code(typed))
    try:
        return require_usable(found, on=on)
    except InvalidLinkCode as refusal:
        await _refuse(uow, key, refusal, on=on)


async def _refuse(
    uow: UnitOfWork, key: AccountKey, refusal: InvalidLinkCode, *, on: datetime
) -> NoReturn:
    """Count the refusal against the account (committed, unlike the rest), then refuse."""
    await uow.links.add_refusal(key, on=on)
    await uow.links.forget_refusals_before(key, on - REFUSAL_WINDOW)
    await uow.commit()
    raise refusal


async def _burn(uow: UnitOfWork, code: str, *, on: datetime) -> None:
    """End a code typed where others could read it, so nobody else can use it."""
    try:
        typed = read_code(code)
    except InvalidLinkCodeFormat:
        return
    async with uow:
        await uow.links.expire_by_hash(hash_code(typed), on=on)
        await uow.commit()


def _look_up_pending(uow: UnitOfWork, games: list[Game]) -> None:
    # A copy made while its original waited for a lookup would otherwise wait forever.
    for game in games:
        if game.lookup is LookupState.PENDING and game.id is not None:
            uow.enqueue_after_commit(game_service.metadata_lookup_job(game.id))


async def _player_of(uow: UnitOfWork, key: AccountKey) -> Player:
    player = await uow.players.get_by_account(key)
    if player is None:
        # Adapters register every speaker before any command runs.
        raise LookupError(f"no player for the {key.platform} account {key.external_id}")
    return player


def _id(player: Player) -> int:
    if player.id is None:
        raise RuntimeError("the repository returned a player without an id")
    return player.id
