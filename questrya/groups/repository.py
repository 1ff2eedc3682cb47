"""Storage of group chats and their members: the abstract repository and its SQL version."""

from __future__ import annotations

import abc
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.common.values import ChatAddress
from questrya.groups.domain import Group, Membership
from questrya.orm.models import GroupFeedRow, GroupMemberRow, dialect_insert


class GroupRepository(abc.ABC):
    @abc.abstractmethod
    async def get(self, address: ChatAddress) -> Group:
        """The group at this address with its members (an empty group if never seen)."""

    @abc.abstractmethod
    async def save(self, group: Group, *, on: datetime) -> None:
        """Write the feed switch and every membership."""

    @abc.abstractmethod
    async def note_member(self, address: ChatAddress, player_id: int, *, on: datetime) -> None:
        """Record that the player spoke in the group; a no-op when already known."""

    @abc.abstractmethod
    async def feeds_shared_by(self, player_id: int) -> list[ChatAddress]:
        """Groups with their feed on where the player shares."""


class SqlGroupRepository(GroupRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, address: ChatAddress) -> Group:
        feed = await self._session.get(GroupFeedRow, (address.platform, address.chat_id))
        rows = await self._session.scalars(
            select(GroupMemberRow).where(
                GroupMemberRow.platform == address.platform,
                GroupMemberRow.chat_id == address.chat_id,
            )
        )
        members = {
            row.player_id: Membership(row.player_id, row.joined_at, row.shares) for row in rows
        }
        return Group(address, feed_enabled=bool(feed and feed.feed_enabled), members=members)

    async def save(self, group: Group, *, on: datetime) -> None:
        address = group.address
        await self._session.merge(
            GroupFeedRow(
                platform=address.platform,
                chat_id=address.chat_id,
                feed_enabled=group.feed_enabled,
                changed_at=on,
            )
        )
        for member in group.members.values():
            await self._session.merge(
                GroupMemberRow(
                    platform=address.platform,
                    chat_id=address.chat_id,
                    player_id=member.player_id,
                    joined_at=member.joined_at,
                    shares=member.shares,
                )
            )
        await self._session.flush()

    async def note_member(self, address: ChatAddress, player_id: int, *, on: datetime) -> None:
        insert = dialect_insert(self._session, GroupMemberRow).values(
            platform=address.platform,
            chat_id=address.chat_id,
            player_id=player_id,
            joined_at=on,
            shares=False,
        )
        await self._session.execute(insert.on_conflict_do_nothing())

    async def feeds_shared_by(self, player_id: int) -> list[ChatAddress]:
        query = (
            select(GroupMemberRow.platform, GroupMemberRow.chat_id)
            .join(
                GroupFeedRow,
                (GroupFeedRow.platform == GroupMemberRow.platform)
                & (GroupFeedRow.chat_id == GroupMemberRow.chat_id),
            )
            .where(
                GroupMemberRow.player_id == player_id,
                GroupMemberRow.shares.is_(True),
                GroupFeedRow.feed_enabled.is_(True),
            )
            .order_by(GroupMemberRow.platform, GroupMemberRow.chat_id)
        )
        rows = await self._session.execute(query)
        return [ChatAddress(platform, chat_id) for platform, chat_id in rows]
