"""RAWG (rawg.io): search, details and critic scores over its REST API.

RAWG takes its API key as a `key=` query parameter and echoes it in the `next` links of its
pages, so the key is never put in a message here (see http.py) and pages are never followed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from questrya.common.values import Platform
from questrya.metadata.domain import GameFacts
from questrya.metadata.providers.http import (
    build_client,
    hide_in_client_logs,
    read_json,
    send,
)
from questrya.metadata.providers.normalise import canonical_platforms, rank_by_title

RAWG_API_URL = "https://api.rawg.io/api"
RAWG_GAME_PAGE = "https://rawg.io/games/{slug}"
# RAWG's relevance order is noisy: ask for more games than wanted and rank them ourselves.
SEARCH_CANDIDATES = 20
MAX_PAGE_SIZE = 40  # RAWG's own cap
MAX_CONCURRENT_DETAILS = 4
# RAWG spellings that Platform.lookup does not read.
RAWG_PLATFORM_NAMES = {"Xbox Series S/X": Platform.XBOX_SERIES}


class RawgProvider:
    """The RAWG games database."""

    name = "rawg"
    attribution = "Data: RAWG"

    def __init__(
        self, api_key: str, api_url: str = RAWG_API_URL, client: httpx.AsyncClient | None = None
    ) -> None:
        self._api_key = api_key
        self._api_url = api_url.rstrip("/")
        self._owns_client = client is None
        self._client = client or build_client()
        hide_in_client_logs(api_key)

    async def search(self, title: str, *, limit: int = 10) -> list[GameFacts]:
        """Games whose title resembles `title`, best match first by our own title matching."""
        page_size = min(max(limit, SEARCH_CANDIDATES), MAX_PAGE_SIZE)
        response = await self._get(
            "/games", search=title, search_precise="true", page_size=str(page_size)
        )
        page = read_json(self.name, response)
        found = [facts_from_rawg(game) for game in page["results"]]
        return rank_by_title(title, found)[:limit]

    async def details(self, source_id: str) -> GameFacts | None:
        """The game with this slug (or numeric id), or None if RAWG no longer has it."""
        response = await self._get("/games/" + quote(source_id, safe=""))
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        return facts_from_rawg(read_json(self.name, response))

    async def critic_scores(self, source_ids: Sequence[str]) -> dict[str, int | None]:
        """Metacritic scores by slug, None for games without one or gone.

        RAWG has no endpoint taking a list of ids, so this is one details request per game,
        at most MAX_CONCURRENT_DETAILS at a time. The first failure cancels the rest and is
        raised.
        """
        bound = asyncio.Semaphore(MAX_CONCURRENT_DETAILS)

        async def score_of(source_id: str) -> int | None:
            async with bound:
                facts = await self.details(source_id)
            return facts.critic_score if facts else None

        try:
            async with asyncio.TaskGroup() as group:
                tasks = {sid: group.create_task(score_of(sid)) for sid in dict.fromkeys(source_ids)}
        except ExceptionGroup as failures:
            # Callers handle a ProviderError, not a group of them; keep its own cause.
            first = failures.exceptions[0]
            raise first from first.__cause__
        return {source_id: task.result() for source_id, task in tasks.items()}

    async def aclose(self) -> None:
        """Close the HTTP client if this provider made it; a client passed in is the caller's."""
        if self._owns_client:
            await self._client.aclose()

    async def _get(self, path: str, **params: str) -> httpx.Response:
        request = self._client.build_request(
            "GET", self._api_url + path, params={**params, "key": self._api_key}
        )
        return await send(self.name, self._client, request)


def facts_from_rawg(game: dict[str, Any]) -> GameFacts:
    """GameFacts from one game of RAWG's /games list or its /games/{id} answer."""
    slug = game["slug"]
    platform_names = (entry["platform"]["name"] for entry in game.get("platforms") or ())
    playtime = game.get("playtime")
    return GameFacts(
        source="rawg",
        source_id=slug,
        title=game["name"],
        release_date=_release_date(game.get("released")),
        platforms=canonical_platforms(platform_names, RAWG_PLATFORM_NAMES),
        genres=tuple(genre["name"] for genre in game.get("genres") or ()),
        cover_url=game.get("background_image") or None,
        critic_score=game.get("metacritic"),
        hours_to_beat=float(playtime) if playtime else None,  # RAWG says 0 when it has no idea
        source_url=RAWG_GAME_PAGE.format(slug=slug),
    )


def _release_date(released: str | None) -> date | None:
    if not released:
        return None
    try:
        return date.fromisoformat(released)
    except ValueError:  # a date RAWG got wrong is no reason to lose the other facts
        return None
