"""What the games service returns to adapters."""

from __future__ import annotations

from datetime import datetime

from questrya.common.schemas import QuestryaBase


class GameRead(QuestryaBase):
    """One game of a player's list, as shown in chat."""

    id: int
    player_id: int
    title: str
    platform: str | None
    status: str
    rating: int | None
    added_at: datetime
    completed_at: datetime | None
    lookup: str = "pending"
    facts_id: int | None = None
    added_in_platform: str | None = None
    added_in_chat_id: str | None = None


class AddedGameRead(GameRead):
    """The game /add stored; `from_wishlist` when it was on the wishlist and moved over."""

    from_wishlist: bool = False


class BacklogPageRead(QuestryaBase):
    """One page of a list; `status` is the filter asked for ("open" for the default view)."""

    status: str
    games: list[GameRead]
    page: int
    has_next: bool


class StatsRead(QuestryaBase):
    """A player's numbers for /stats."""

    total: int
    by_status: dict[str, int]
    rated_count: int
    average_rating: float | None
    completed_this_year: int
