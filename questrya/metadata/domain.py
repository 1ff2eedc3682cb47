"""Facts about a game as a games database knows them. Pure Python."""

from __future__ import annotations

import re
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


def describe(facts: GameFacts) -> str:
    """One line of facts, e.g. "Hades (2020) · PC, Nintendo Switch · Metacritic 93 · ~22 h"."""
    parts = [_dated_title(facts)]
    if facts.platforms:
        parts.append(", ".join(facts.platforms[:MAX_LISTED]))
    if facts.genres:
        parts.append(", ".join(facts.genres[:MAX_LISTED_GENRES]))
    if facts.critic_score is not None:
        parts.append(f"Metacritic {facts.critic_score}")
    if facts.hours_to_beat:
        parts.append(f"~{round(facts.hours_to_beat)} h")
    return " · ".join(parts)


def describe_with_source(facts: GameFacts) -> str:
    """`describe`, then "Data: RAWG: <page>" for facts from a games database that asks for it."""
    source_name = ATTRIBUTED_SOURCES.get(facts.source)
    if source_name is None or not facts.source_url:
        return describe(facts)
    return f"{describe(facts)}\nData: {source_name}: {facts.source_url}"


def labelled(facts: GameFacts) -> str:
    """A candidate's label in a choice: "Doom (2016) · PC, PlayStation 4"."""
    name = _dated_title(facts)
    platforms = ", ".join(facts.platforms[:MAX_LISTED_IN_CHOICE])
    return f"{name} · {platforms}" if platforms else name


def _dated_title(facts: GameFacts) -> str:
    """The title with its year, unless it already carries one ("Doom (2016)")."""
    year = facts.release_year
    if year is None or facts.title.endswith(f"({year})"):
        return facts.title
    return f"{facts.title} ({year})"


# The games databases whose terms ask for credit next to their data; the bundled catalog is ours.
ATTRIBUTED_SOURCES = {"rawg": "RAWG", "igdb": "IGDB"}
# Every source's ids fit: RAWG's slugs, IGDB's numbers, the catalog's slugs. A player can type
# one after /identify, and it goes into a URL and a notification's key.
SOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MAX_LISTED = 4
MAX_LISTED_GENRES = 2
MAX_LISTED_IN_CHOICE = 2
