"""The bundled catalog: a few hundred well-known games, searchable with no network and no key.

The data is questrya/metadata/catalog.json (see CATALOG.md). It is read once per process, on
first use, and every title and alias is turned into its match key then, so a search only runs
rapidfuzz over ready strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz, process

from questrya.common.text import fold
from questrya.metadata.domain import GameFacts

CATALOG_PACKAGE = "questrya.metadata"
CATALOG_FILE = "catalog.json"

# WRatio also scores partial matches ("zelda" inside a long title scores 90). Typos and partial
# titles score 80 and more; below 75 two names only share a few letters (measured on the
# catalog: gibberish queries peak around 70), and showing them would be noise.
FUZZY_SCORE_CUTOFF = 75.0
# Shorter queries are inside almost every title: they can only match exactly.
MIN_FUZZY_QUERY_LENGTH = 3
# Shorter aliases are abbreviations ("botw", "ff7", "re4"): fuzzy-matched, they turn up inside
# unrelated queries, so they count only when typed exactly.
MIN_FUZZY_ALIAS_LENGTH = 5

# Players write "Final Fantasy 7" as often as "VII". I and X stay words: "Mega Man X" is not
# "Mega Man 10", and "I" is too often just a letter.
_ROMAN_NUMERALS = {
    "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
    "xi": "11", "xii": "12", "xiii": "13", "xiv": "14", "xv": "15", "xvi": "16",
}  # fmt: skip
# fold() turns an apostrophe into a space; players type "baldurs gate", not "baldur s gate".
_WITHOUT_APOSTROPHES = str.maketrans("", "", "'’")

# How well a game matches: exact or not, then WRatio, then plain similarity to break the many
# WRatio ties between titles that merely share a word ("tears kingdom" vs "... Kingdom Battle").
_Rank = tuple[bool, float, float]


@dataclass(frozen=True)
class _Catalog:
    """The games by id, the names fuzzy search runs over, and every name for exact lookup."""

    games: Mapping[str, GameFacts]
    fuzzy_names: Sequence[str]
    fuzzy_name_owners: Sequence[str]  # the game id of each fuzzy name, index for index
    ids_by_name: Mapping[str, tuple[str, ...]]


class OfflineCatalog:
    """A MetadataProvider over the bundled catalog; source ids are the catalog's slugs."""

    name = "offline"
    attribution = "Data: Questrya catalog"

    async def search(self, title: str, *, limit: int = 10) -> Sequence[GameFacts]:
        """Games whose title or alias resembles `title`: exact matches first, then best fuzzy."""
        query = match_key(title)
        if not query or limit <= 0:
            return []
        catalog = _load_catalog()
        ranks = _fuzzy_ranks(catalog, query) if len(query) >= MIN_FUZZY_QUERY_LENGTH else {}
        for game_id in catalog.ids_by_name.get(query, ()):
            ranks[game_id] = (True, 100.0, 100.0)
        # sorted() is stable: equal ranks keep catalog order, so results are deterministic.
        ranked = sorted(ranks, key=ranks.__getitem__, reverse=True)
        return [catalog.games[game_id] for game_id in ranked[:limit]]

    async def details(self, source_id: str) -> GameFacts | None:
        """The game with this catalog id, or None."""
        return _load_catalog().games.get(source_id)

    async def critic_scores(self, source_ids: Sequence[str]) -> dict[str, int | None]:
        """The catalog's critic score of each id; None for unknown ids and unknown scores."""
        games = _load_catalog().games
        return {
            source_id: game.critic_score if (game := games.get(source_id)) else None
            for source_id in source_ids
        }

    async def aclose(self) -> None:
        """Nothing to close: the catalog lives in memory."""


def catalog_titles() -> list[str]:
    """Every title in the catalog, in catalog order (for autocomplete)."""
    return [game.title for game in _load_catalog().games.values()]


def match_key(text: str) -> str:
    """`text` as search compares it: folded, apostrophes dropped, Roman numerals as digits."""
    words = fold(text.translate(_WITHOUT_APOSTROPHES)).split()
    return " ".join(_ROMAN_NUMERALS.get(word, word) for word in words)


def _fuzzy_ranks(catalog: _Catalog, query: str) -> dict[str, _Rank]:
    """The best rank of each game over its fuzzy names, for games above the WRatio cutoff."""
    matches = process.extract(
        query,
        catalog.fuzzy_names,
        scorer=fuzz.WRatio,
        processor=None,
        score_cutoff=FUZZY_SCORE_CUTOFF,
        limit=None,
    )
    best: dict[str, _Rank] = {}
    for name, score, index in matches:
        game_id = catalog.fuzzy_name_owners[index]
        rank = (False, score, fuzz.ratio(query, name))
        best[game_id] = max(rank, best.get(game_id, rank))
    return best


@cache
def _load_catalog() -> _Catalog:
    """Read and index catalog.json; cached, so the file is read once per process."""
    # A ~150 kB package file read once per process: not worth a thread hop off the event loop.
    raw = resources.files(CATALOG_PACKAGE).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    games = {game.source_id: game for game in map(_facts_from_entry, json.loads(raw)["games"])}
    fuzzy = [(name, game.source_id) for game in games.values() for name in _fuzzy_names(game)]
    ids_by_name: dict[str, tuple[str, ...]] = {}
    for game in games.values():
        for name in _all_names(game):
            ids_by_name[name] = (*ids_by_name.get(name, ()), game.source_id)
    return _Catalog(
        games=games,
        fuzzy_names=[name for name, _ in fuzzy],
        fuzzy_name_owners=[game_id for _, game_id in fuzzy],
        ids_by_name=ids_by_name,
    )


def _all_names(game: GameFacts) -> list[str]:
    """The match keys of the game's title and aliases, without repeats."""
    return list(dict.fromkeys(match_key(name) for name in (game.title, *game.aliases)))


def _fuzzy_names(game: GameFacts) -> Iterator[str]:
    """The match keys fuzzy search may use: the title, and aliases long enough to be names."""
    title = match_key(game.title)
    for name in _all_names(game):
        if name == title or len(name) >= MIN_FUZZY_ALIAS_LENGTH:
            yield name


def _facts_from_entry(entry: Mapping[str, Any]) -> GameFacts:
    """One catalog entry as GameFacts (year-only dates are January 1, see CATALOG.md)."""
    hours = entry["hours_to_beat"]
    return GameFacts(
        source="offline",
        source_id=entry["id"],
        title=entry["title"],
        release_date=date.fromisoformat(entry["release_date"]),
        platforms=tuple(entry["platforms"]),
        genres=tuple(entry["genres"]),
        critic_score=entry["critic_score"],
        hours_to_beat=float(hours) if hours is not None else None,
        aliases=tuple(entry["aliases"]),
    )
