"""What the linking service returns to adapters."""

from __future__ import annotations

from datetime import datetime

from questrya.common.schemas import QuestryaBase


class LinkCodeRead(QuestryaBase):
    """A new link code, as shown to the player ("K7QM-4XPA"), and until when it works."""

    code: str
    expires_at: datetime
    valid_minutes: int


class LinkRead(QuestryaBase):
    """Two accounts now one player: every platform of its accounts, and its games."""

    platforms: list[str]
    game_count: int
    merged_count: int  # games both had, now kept once


class UnlinkRead(QuestryaBase):
    """An account gone its own way with a copy of the backlog it shared."""

    platform: str
    remaining_platforms: list[str]
    game_count: int
