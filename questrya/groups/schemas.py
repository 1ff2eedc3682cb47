"""What the groups service returns."""

from __future__ import annotations

from questrya.common.schemas import QuestryaBase


class GroupRead(QuestryaBase):
    feed_enabled: bool
    shares: bool
    member_count: int
