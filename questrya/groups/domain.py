"""A group chat, its members and its feed. Pure Python.

Nothing of a player leaves a chat without their consent: sharing is off until the member turns
it on, and only the group's admins switch the feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from questrya.common.errors import NotGroupAdmin
from questrya.common.values import ChatAddress


@dataclass(eq=False)
class Membership:
    player_id: int
    joined_at: datetime
    shares: bool = False


@dataclass(eq=False)
class Group:
    """A group chat as Questrya knows it: who has spoken there, and whether its feed is on."""

    address: ChatAddress
    feed_enabled: bool = False
    members: dict[int, Membership] = field(default_factory=dict)

    def meet(self, player_id: int, *, on: datetime) -> Membership:
        """The player's membership, recorded the first time they speak in the group."""
        return self.members.setdefault(player_id, Membership(player_id, joined_at=on))

    def switch_feed(self, *, by: int, enabled: bool, is_admin: bool | None) -> None:
        """Turn the feed on or off. `is_admin` comes from the platform; where it has no admins
        (the console), the first member to have spoken is the admin."""
        if not (is_admin if is_admin is not None else self.founder_id == by):
            raise NotGroupAdmin("Only the group's admins can turn the feed on or off.")
        self.feed_enabled = enabled

    def set_sharing(self, player_id: int, *, shares: bool, on: datetime) -> None:
        self.meet(player_id, on=on).shares = shares

    @property
    def founder_id(self) -> int | None:
        earliest = min(
            self.members.values(), key=lambda m: (m.joined_at, m.player_id), default=None
        )
        return earliest.player_id if earliest else None

    def shares_of(self, player_id: int) -> bool:
        member = self.members.get(player_id)
        return member is not None and member.shares
