"""Use cases of group chats: the feed switch, members' sharing, and posting to feeds."""

from __future__ import annotations

from datetime import datetime

from questrya.common.clock import Clock, utc_now
from questrya.common.errors import GroupOnly
from questrya.common.values import ChatAddress
from questrya.groups.domain import Group
from questrya.groups.schemas import GroupRead
from questrya.unit_of_work import UnitOfWork

GROUP_ONLY = "{command} works in group chats: add me to a group and type it there."


async def note_presence(
    *, uow: UnitOfWork, address: ChatAddress, player_id: int, clock: Clock = utc_now
) -> None:
    """Remember that the player speaks in this group (they become one of its members)."""
    async with uow:
        await uow.groups.note_member(address, player_id, on=clock())
        await uow.commit()


async def switch_feed(
    *,
    uow: UnitOfWork,
    address: ChatAddress,
    player_id: int,
    enabled: bool,
    is_admin: bool | None,
    is_group: bool,
    clock: Clock = utc_now,
) -> GroupRead:
    """Turn the group's feed on or off; only its admins may."""
    require_group(is_group, "/feed")
    async with uow:
        group = await uow.groups.get(address)
        group.meet(player_id, on=clock())
        group.switch_feed(by=player_id, enabled=enabled, is_admin=is_admin)
        return await _save(uow, group, player_id, clock())


async def set_sharing(
    *,
    uow: UnitOfWork,
    address: ChatAddress,
    player_id: int,
    shares: bool,
    is_group: bool,
    clock: Clock = utc_now,
) -> GroupRead:
    """Choose whether the player's completions and recommendations go to this group's feed."""
    require_group(is_group, "/share")
    async with uow:
        group = await uow.groups.get(address)
        group.set_sharing(player_id, shares=shares, on=clock())
        return await _save(uow, group, player_id, clock())


async def feeds_shared_by(*, uow: UnitOfWork, player_id: int) -> list[ChatAddress]:
    """The feeds (switched on) the player shares to."""
    async with uow:
        return await uow.groups.feeds_shared_by(player_id)


async def member_ids(*, uow: UnitOfWork, address: ChatAddress) -> list[int]:
    """Everyone who has spoken in the group, by player id."""
    async with uow:
        group = await uow.groups.get(address)
    return sorted(group.members)


async def _save(uow: UnitOfWork, group: Group, player_id: int, now: datetime) -> GroupRead:
    await uow.groups.save(group, on=now)
    await uow.commit()
    return GroupRead(
        feed_enabled=group.feed_enabled,
        shares=group.shares_of(player_id),
        member_count=len(group.members),
    )


def require_group(is_group: bool, command: str) -> None:
    """Refuse a group command typed in a private chat."""
    if not is_group:
        raise GroupOnly(GROUP_ONLY.format(command=command))
