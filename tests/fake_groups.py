"""An in-memory group repository for service tests."""

from __future__ import annotations

import copy
from datetime import datetime

from questrya.common.values import ChatAddress
from questrya.groups.domain import Group, GroupPoll, Membership
from questrya.groups.repository import GroupRepository


class FakeGroupRepository(GroupRepository):
    def __init__(self, groups: dict[ChatAddress, Group], polls: list[GroupPoll]) -> None:
        self.groups = groups
        self.polls = polls

    async def get(self, address: ChatAddress) -> Group:
        return copy.deepcopy(self.groups.get(address) or Group(address))

    async def save(self, group: Group, *, on: datetime) -> None:
        self.groups[group.address] = copy.deepcopy(group)

    async def note_member(self, address: ChatAddress, player_id: int, *, on: datetime) -> None:
        group = self.groups.setdefault(address, Group(address))
        group.members.setdefault(player_id, Membership(player_id, joined_at=on))

    async def feeds_shared_by(self, player_id: int) -> list[ChatAddress]:
        return sorted(
            (g.address for g in self.groups.values() if g.feed_enabled and g.shares_of(player_id)),
            key=lambda address: (address.platform, address.chat_id),
        )

    async def merge_members(self, *, from_player_id: int, into_player_id: int) -> None:
        for group in self.groups.values():
            moved = group.members.pop(from_player_id, None)
            if moved is None:
                continue
            kept = group.members.setdefault(into_player_id, moved)
            kept.player_id = into_player_id
            kept.shares = kept.shares or moved.shares
        for poll in self.polls:
            moved_vote = poll.votes.pop(from_player_id, None)
            if moved_vote is not None:
                poll.votes.setdefault(into_player_id, moved_vote)

    async def hand_over_members(
        self, *, platform: str, from_player_id: int, to_player_id: int
    ) -> None:
        for address, group in self.groups.items():
            moved = (
                group.members.pop(from_player_id, None) if address.platform == platform else None
            )
            if moved is not None:
                moved.player_id = to_player_id
                group.members[to_player_id] = moved

    async def add_poll(self, poll: GroupPoll) -> GroupPoll:
        poll.id = len(self.polls) + 1
        self.polls.append(copy.deepcopy(poll))
        return poll

    async def latest_poll(self, address: ChatAddress) -> GroupPoll | None:
        mine = [poll for poll in self.polls if poll.address == address]
        return copy.deepcopy(mine[-1]) if mine else None

    async def save_vote(self, poll: GroupPoll, player_id: int, *, on: datetime) -> None:
        stored = next(p for p in self.polls if p.id == poll.id)
        stored.votes[player_id] = poll.votes[player_id]

    async def move_chat(self, old: ChatAddress, new: ChatAddress) -> None:
        group = self.groups.pop(old, None)
        if group is not None:
            group.address = new
            self.groups[new] = group
        for poll in self.polls:
            if poll.address == old:
                poll.address = new
