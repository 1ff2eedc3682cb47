"""What the users service returns to adapters."""

from __future__ import annotations

from questrya.common.schemas import QuestryaBase


class PlayerRead(QuestryaBase):
    """A player, as known by the account that just spoke."""

    id: int
    display_name: str
    is_new: bool
