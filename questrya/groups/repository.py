"""Storage of group chats and their members: the abstract repository and its SQL version."""

from __future__ import annotations

import abc
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from questrya.common.values import ChatAddress
from questrya.groups.domain import Group, GroupPoll, Membership
from questrya.orm.models import (
    GroupFeedRow,
    GroupMemberRow,
    GroupPollRow,
    GroupPollVoteRow,
    dialect_insert,
)


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

    @abc.abstractmethod
    async def hand_over_members(
        self, *, platform: str, from_player_id: int, to_player_id: int
    ) -> None:
        """Move the player's memberships of `platform`'s groups to another player: an unlinked
        account takes its platform's groups with it (one account per platform per player)."""

    @abc.abstractmethod
    async def move_chat(self, old: ChatAddress, new: ChatAddress) -> None:
        """The group now lives at `new` (a Telegram group became a supergroup): its feed
        switch, members and polls go with it."""

    @abc.abstractmethod
    async def add_poll(self, poll: GroupPoll) -> GroupPoll:
        """Store a new poll and give it its id."""

    @abc.abstractmethod
    async def latest_poll(self, address: ChatAddress) -> GroupPoll | None:
        """The group's most recent poll with its votes, or None."""

    @abc.abstractmethod
    async def save_vote(self, poll: GroupPoll, player_id: int, *, on: datetime) -> None:
        """Write the member's current vote in the poll (replacing an earlier one)."""

    @abc.abstractmethod
    async def merge_members(self, *, from_player_id: int, into_player_id: int) -> None:
        """Give `into_player_id` every group membership and poll vote of `from_player_id`
        (linked accounts are one player): where both are members, it shares if either shared;
        where both voted, the vote of `into_player_id` stays."""


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

    async def move_chat(self, old: ChatAddress, new: ChatAddress) -> None:
        for table in (GroupFeedRow, GroupMemberRow, GroupPollRow):
            await self._session.execute(
                update(table)
                .where(table.platform == old.platform, table.chat_id == old.chat_id)
                .values(platform=new.platform, chat_id=new.chat_id)
            )

    async def add_poll(self, poll: GroupPoll) -> GroupPoll:
        row = GroupPollRow(
            platform=poll.address.platform,
            chat_id=poll.address.chat_id,
            question=poll.question,
            options=list(poll.options),
            created_by=poll.created_by,
            created_at=poll.created_at,
        )
        self._session.add(row)
        await self._session.flush()
        poll.id = row.id
        return poll

    async def latest_poll(self, address: ChatAddress) -> GroupPoll | None:
        row = await self._session.scalar(
            select(GroupPollRow)
            .where(
                GroupPollRow.platform == address.platform, GroupPollRow.chat_id == address.chat_id
            )
            .order_by(GroupPollRow.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        votes = await self._session.execute(
            select(GroupPollVoteRow.player_id, GroupPollVoteRow.option).where(
                GroupPollVoteRow.poll_id == row.id
            )
        )
        return _poll_to_domain(row, dict(votes.all()))

    async def save_vote(self, poll: GroupPoll, player_id: int, *, on: datetime) -> None:
        if poll.id is None:
            raise ValueError("the poll is not stored yet")
        insert = dialect_insert(self._session, GroupPollVoteRow).values(
            poll_id=poll.id, player_id=player_id, option=poll.votes[player_id], voted_at=on
        )
        await self._session.execute(
            insert.on_conflict_do_update(
                index_elements=["poll_id", "player_id"],
                set_={"option": insert.excluded.option, "voted_at": insert.excluded.voted_at},
            )
        )

    async def merge_members(self, *, from_player_id: int, into_player_id: int) -> None:
        merged = aliased(GroupMemberRow)
        same_chat = (
            (merged.platform == GroupMemberRow.platform)
            & (merged.chat_id == GroupMemberRow.chat_id)
            & (merged.player_id == from_player_id)
        )
        await self._session.execute(
            update(GroupMemberRow)
            .where(GroupMemberRow.player_id == into_player_id)
            .where(exists().where(same_chat, merged.shares.is_(True)))
            .values(shares=True)
        )
        kept = aliased(GroupMemberRow)
        await self._session.execute(
            delete(GroupMemberRow).where(
                GroupMemberRow.player_id == from_player_id,
                exists().where(
                    kept.platform == GroupMemberRow.platform,
                    kept.chat_id == GroupMemberRow.chat_id,
                    kept.player_id == into_player_id,
                ),
            )
        )
        await self._session.execute(
            update(GroupMemberRow)
            .where(GroupMemberRow.player_id == from_player_id)
            .values(player_id=into_player_id)
        )
        await self._merge_votes(from_player_id, into_player_id)

    async def _merge_votes(self, from_player_id: int, into_player_id: int) -> None:
        kept = aliased(GroupPollVoteRow)
        await self._session.execute(
            delete(GroupPollVoteRow).where(
                GroupPollVoteRow.player_id == from_player_id,
                exists().where(
                    kept.poll_id == GroupPollVoteRow.poll_id, kept.player_id == into_player_id
                ),
            )
        )
        await self._session.execute(
            update(GroupPollVoteRow)
            .where(GroupPollVoteRow.player_id == from_player_id)
            .values(player_id=into_player_id)
        )

    async def hand_over_members(
        self, *, platform: str, from_player_id: int, to_player_id: int
    ) -> None:
        await self._session.execute(
            update(GroupMemberRow)
            .where(GroupMemberRow.platform == platform, GroupMemberRow.player_id == from_player_id)
            .values(player_id=to_player_id)
        )


def _poll_to_domain(row: GroupPollRow, votes: dict[int, int]) -> GroupPoll:
    return GroupPoll(
        address=ChatAddress(row.platform, row.chat_id),
        question=row.question,
        options=tuple(row.options),
        created_by=row.created_by,
        created_at=row.created_at,
        votes=votes,
        id=row.id,
    )
