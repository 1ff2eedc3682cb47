"""What the recommendations service returns to adapters."""

from __future__ import annotations

from questrya.common.schemas import QuestryaBase


class PickRead(QuestryaBase):
    """One game to play next, and why; `reasons` are short phrases, best signal first."""

    title: str
    score: float
    reasons: list[str]


class NextRead(QuestryaBase):
    """The answer to /next: the best picks of the player's backlog, best first.

    `hours` is the time the player said they have (None if not said); `picks` is empty when
    the backlog is.
    """

    hours: int | None
    picks: list[PickRead]
