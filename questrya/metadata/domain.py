"""Facts about a game as a games database knows them. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class GameFacts:
    """What a provider knows of one game. Every field but the title may be unknown."""

    source: str  # "offline", "rawg" or "igdb"
    source_id: str  # the provider's own id (a slug or a number), for detail and score refresh
    title: str
    release_date: date | None = None
    platforms: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    cover_url: str | None = None
    critic_score: int | None = None  # 0-100, Metacritic-style
    hours_to_beat: float | None = None  # main story, typical
    source_url: str | None = None  # the game's page, for attribution
    aliases: tuple[str, ...] = field(default=(), compare=False)

    @property
    def release_year(self) -> int | None:
        return self.release_date.year if self.release_date else None
