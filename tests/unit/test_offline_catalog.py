"""The bundled catalog: well-formed data, and a provider that finds what players type."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import pytest

from questrya.common.text import fold
from questrya.common.values import Platform
from questrya.metadata.providers.base import MetadataProvider
from questrya.metadata.providers.offline import OfflineCatalog, catalog_titles

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
PLATFORM_NAMES = frozenset(platform.value for platform in Platform)


@cache
def catalog_json() -> dict[str, Any]:
    """The catalog file as shipped in the package."""
    raw = resources.files("questrya.metadata").joinpath("catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def games() -> list[dict[str, Any]]:
    return list(catalog_json()["games"])


def year_only_ids() -> list[str]:
    """The ids the catalog says only the release year of is known."""
    notes = catalog_json()["approximate_fields"]
    return next(note["ids"] for note in notes if note["field"] == "release_date")


def test_catalog_has_at_least_300_games() -> None:
    assert catalog_json()["version"] == 1
    assert len(games()) >= 300


def test_ids_are_unique_slugs() -> None:
    ids = [game["id"] for game in games()]
    assert len(ids) == len(set(ids))
    assert [game_id for game_id in ids if not SLUG.fullmatch(game_id)] == []


def test_titles_are_unique_once_folded() -> None:
    folded = [fold(game["title"]) for game in games()]
    assert len(folded) == len(set(folded))


def test_no_alias_names_another_game() -> None:
    owner_by_name: dict[str, str] = {}
    clashes = []
    for game in games():
        for name in {fold(name) for name in [game["title"], *game["aliases"]]}:
            if owner_by_name.setdefault(name, game["id"]) != game["id"]:
                clashes.append((name, game["id"], owner_by_name[name]))
    assert clashes == []


def test_every_game_names_its_platforms_genres_and_developer() -> None:
    for game in games():
        assert game["title"].strip() == game["title"] != "", game["id"]
        assert game["platforms"], game["id"]
        assert game["genres"], game["id"]
        assert game["developer"], game["id"]


def test_platforms_are_canonical_names() -> None:
    unknown = {
        (game["id"], platform)
        for game in games()
        for platform in game["platforms"]
        if platform not in PLATFORM_NAMES
    }
    assert unknown == set()


def test_scores_and_hours_are_in_range_when_known() -> None:
    for game in games():
        score, hours = game["critic_score"], game["hours_to_beat"]
        assert score is None or (isinstance(score, int) and 0 <= score <= 100), game["id"]
        assert hours is None or hours > 0, game["id"]


def test_release_dates_parse_and_match_the_year() -> None:
    for game in games():
        released = date.fromisoformat(game["release_date"])
        assert 1970 <= released.year <= 2026, game["id"]
        assert game["release_year"] == released.year, game["id"]


def test_year_only_dates_are_listed_and_fall_on_january_first() -> None:
    dates = {game["id"]: date.fromisoformat(game["release_date"]) for game in games()}
    for game_id in year_only_ids():
        assert dates[game_id] == date(dates[game_id].year, 1, 1), game_id


def test_catalog_titles_lists_every_game() -> None:
    titles = catalog_titles()
    assert len(titles) == len(games())
    assert "Hades" in titles


@pytest.fixture
def catalog() -> OfflineCatalog:
    return OfflineCatalog()


async def test_search_puts_the_exact_title_first(catalog: OfflineCatalog) -> None:
    titles = [game.title for game in await catalog.search("Hades")]
    assert titles[0] == "Hades"
    assert "Hades II" in titles


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hollow night", "Hollow Knight"),
        ("botw", "The Legend of Zelda: Breath of the Wild"),
        ("ff7", "Final Fantasy VII"),
        ("FINAL FANTASY 7", "Final Fantasy VII"),
        ("baldurs gate 3", "Baldur's Gate 3"),
        ("pokemon red", "Pokémon Red and Blue"),
        ("tears kingdom", "The Legend of Zelda: Tears of the Kingdom"),
        ("GTA V", "Grand Theft Auto V"),
    ],
)
async def test_search_finds_what_players_type(
    catalog: OfflineCatalog, typed: str, expected: str
) -> None:
    results = await catalog.search(typed)
    assert results, typed
    assert results[0].title == expected


@pytest.mark.parametrize("typed", ["qwertyuiop asdf", "blorptastic frobnicator", "", "  ", "a"])
async def test_search_for_an_unknown_title_finds_nothing(
    catalog: OfflineCatalog, typed: str
) -> None:
    assert await catalog.search(typed) == []


async def test_search_respects_the_limit(catalog: OfflineCatalog) -> None:
    assert len(await catalog.search("zelda", limit=3)) == 3
    assert await catalog.search("zelda", limit=0) == []


async def test_details_gives_every_fact_of_a_game(catalog: OfflineCatalog) -> None:
    hades = await catalog.details("hades")
    assert hades is not None
    assert (hades.source, hades.source_id, hades.title) == ("offline", "hades", "Hades")
    assert hades.release_date == date(2020, 9, 17)
    assert hades.release_year == 2020
    assert "Nintendo Switch" in hades.platforms
    assert hades.critic_score == 93
    assert hades.hours_to_beat == 22.0


async def test_details_of_an_unknown_id_is_none(catalog: OfflineCatalog) -> None:
    assert await catalog.details("no-such-game") is None


async def test_critic_scores_by_id(catalog: OfflineCatalog) -> None:
    scores = await catalog.critic_scores(["hades", "no-such-game", "hades-ii"])
    assert scores == {"hades": 93, "no-such-game": None, "hades-ii": None}


async def test_provider_names_itself_and_closes(catalog: OfflineCatalog) -> None:
    provider: MetadataProvider = catalog  # mypy checks the protocol here
    assert provider.name == "offline"
    assert catalog.attribution == "Data: Questrya catalog"
    await catalog.aclose()
