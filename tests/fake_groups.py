"""An in-memory group repository for service tests."""

from __future__ import annotations

import copy
from datetime import datetime

from questrya.common.values import ChatAddress
from questrya.groups.domain import Group, Membership
from questrya.groups.repository import GroupRepository


class FakeGroupRepository(GroupRepository):
    def __init__(self, groups: dict[ChatAddress, Group]) -> None:
        self.groups = groups

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
