"""What the groups service returns."""

from __future__ import annotations

from questrya.common.schemas import QuestryaBase


class GroupRead(QuestryaBase):
    feed_enabled: bool
    shares: bool
    member_count: int


class TonightPickRead(QuestryaBase):
    """A game several members could play together: who has it, and its critic score."""

    title: str
    players: list[str]
    critic_score: int | None


class PollRead(QuestryaBase):
    """A group vote; `tally` pairs each option with its votes so far."""

    id: int
    question: str
    options: list[str]
    tally: list[tuple[str, int]]


class TonightRead(QuestryaBase):
    """/tonight's answer: the picks, best first, and the vote opened on them (None when fewer
    than two games are shared)."""

    picks: list[TonightPickRead]
    poll: PollRead | None


class RecommendationRead(QuestryaBase):
    """A recommendation posted to a group: its text and the game's cover when known."""

    text: str
    image_url: str | None
