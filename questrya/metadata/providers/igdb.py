"""IGDB (igdb.com, run by Twitch): search, details and critic scores over its Apicalypse API.

IGDB allows 4 requests a second and 8 open at once per client id; a provider keeps to both for
its own requests, so a process should hold one provider.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from redis.asyncio import Redis

from questrya.common.text import clean_text
from questrya.common.values import Platform
from questrya.metadata.domain import GameFacts
from questrya.metadata.providers.http import build_client, read_json, send
from questrya.metadata.providers.normalise import canonical_platforms, rank_by_title
from questrya.metadata.providers.twitch_token import TWITCH_TOKEN_URL, TwitchAppToken

IGDB_API_URL = "https://api.igdb.com/v4"
COVER_URL = "https://images.igdb.com/igdb/image/upload/t_cover_big/{image_id}.jpg"
GAME_FIELDS = (
    "name,slug,first_release_date,platforms.name,genres.name,cover.image_id,"
    "aggregated_rating,total_rating,url"
)
MAX_REQUESTS_PER_SECOND = 4.0
MAX_OPEN_REQUESTS = 8
MAX_IDS_PER_QUERY = 500  # IGDB's largest `limit`, so the most games one query returns
# IGDB's relevance order puts DLC and editions among the games: rank a wider set ourselves.
SEARCH_CANDIDATES = 20
SECONDS_PER_HOUR = 3600
# IGDB spellings that Platform.lookup does not read.
IGDB_PLATFORM_NAMES = {
    "PC (Microsoft Windows)": Platform.PC,
    "Nintendo Entertainment System": Platform.NES,
    "Family Computer": Platform.NES,
    "Super Nintendo Entertainment System": Platform.SNES,
    "Super Famicom": Platform.SNES,
    "Nintendo GameCube": Platform.GAMECUBE,
    "Sega Mega Drive/Genesis": Platform.GENESIS,
}


class IgdbProvider:
    """The IGDB games database."""

    name = "igdb"
    attribution = "Data: IGDB"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_url: str = IGDB_API_URL,
        token_url: str = TWITCH_TOKEN_URL,
        *,
        token_cache: Redis,
        client: httpx.AsyncClient | None = None,
        max_requests_per_second: float = MAX_REQUESTS_PER_SECOND,
        max_open_requests: int = MAX_OPEN_REQUESTS,
    ) -> None:
        self._client_id = client_id
        self._api_url = api_url.rstrip("/")
        self._owns_client = client is None
        self._client = client or build_client()
        self._token = TwitchAppToken(
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            cache=token_cache,
            client=self._client,
        )
        self._open_requests = asyncio.Semaphore(max_open_requests)
        # A bucket of one, refilled every 1/rate seconds: requests evenly spaced, never a
        # burst that IGDB would count as over its per-second limit.
        self._rate = AsyncLimiter(1, 1 / max_requests_per_second)

    async def search(self, title: str, *, limit: int = 10) -> list[GameFacts]:
        """Games whose title resembles `title`, best match first by our own title matching."""
        query = (
            f"search {apicalypse_string(title)}; fields {GAME_FIELDS}; "
            f"limit {min(max(limit, SEARCH_CANDIDATES), MAX_IDS_PER_QUERY)};"
        )
        found = await self._games_with_hours(query)
        return rank_by_title(title, found)[:limit]

    async def details(self, source_id: str) -> GameFacts | None:
        """The game with this IGDB id, or None if IGDB has no such game."""
        if not _is_igdb_id(source_id):
            return None
        found = await self._games_with_hours(f"fields {GAME_FIELDS}; where id = {source_id};")
        return found[0] if found else None

    async def critic_scores(self, source_ids: Sequence[str]) -> dict[str, int | None]:
        """Aggregated critic scores by IGDB id: one request per MAX_IDS_PER_QUERY games."""
        ids = [source_id for source_id in dict.fromkeys(source_ids) if _is_igdb_id(source_id)]
        scores: dict[str, int | None] = {}
        for start in range(0, len(ids), MAX_IDS_PER_QUERY):
            batch = ids[start : start + MAX_IDS_PER_QUERY]
            query = (
                f"where id = ({','.join(batch)}); fields aggregated_rating; "
                f"limit {MAX_IDS_PER_QUERY};"
            )
            games = await self._query("games", query)
            scores |= {str(game["id"]): _critic_score(game) for game in games}
        return {source_id: scores.get(source_id) for source_id in source_ids}

    async def aclose(self) -> None:
        """Close the HTTP client if this provider made it; a client passed in is the caller's."""
        if self._owns_client:
            await self._client.aclose()

    async def _games_with_hours(self, query: str) -> list[GameFacts]:
        games = await self._query("games", query)
        hours = await self._hours_to_beat([game["id"] for game in games])
        return [facts_from_igdb(game, hours.get(game["id"])) for game in games]

    async def _hours_to_beat(self, game_ids: list[int]) -> dict[int, float]:
        """Typical main-story hours by game id, for the games IGDB has a time for."""
        if not game_ids:
            return {}
        query = (
            f"fields game_id,normally; where game_id = ({','.join(map(str, game_ids))}); "
            f"limit {MAX_IDS_PER_QUERY};"
        )
        times = await self._query("game_time_to_beats", query)
        return {
            time["game_id"]: round(time["normally"] / SECONDS_PER_HOUR, 1)
            for time in times
            if time.get("normally")
        }

    async def _query(self, endpoint: str, query: str) -> list[dict[str, Any]]:
        token = await self._token.current()
        response = await self._post(endpoint, query, token)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            # The shared token expired or was revoked: a fresh one earns exactly one more try;
            # a second 401 means the credentials themselves are refused.
            token = await self._token.replace(rejected=token)
            response = await self._post(endpoint, query, token)
        rows: list[dict[str, Any]] = read_json(self.name, response)
        return rows

    async def _post(self, endpoint: str, query: str, token: str) -> httpx.Response:
        request = self._client.build_request(
            "POST",
            f"{self._api_url}/{endpoint}",
            content=query.encode(),
            headers={
                "Client-ID": self._client_id,
                "Authorization": f"Bearer {token}",
                "Content-Type": "text/plain",
            },
        )
        # An open slot first, then a turn: a request that waited for a slot still waits for
        # its turn, so slots freed together never send a burst.
        async with self._open_requests, self._rate:
            return await send(self.name, self._client, request)


def apicalypse_string(text: str) -> str:
    """`text` as a quoted Apicalypse string: backslashes and quotes escaped, controls dropped."""
    escaped = clean_text(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def facts_from_igdb(game: dict[str, Any], hours_to_beat: float | None) -> GameFacts:
    """GameFacts from one game of IGDB's /games answer; IGDB leaves out unknown fields."""
    platform_names = (platform.get("name", "") for platform in game.get("platforms", ()))
    return GameFacts(
        source="igdb",
        source_id=str(game["id"]),
        title=game["name"],
        release_date=_release_date(game.get("first_release_date")),
        platforms=canonical_platforms(platform_names, IGDB_PLATFORM_NAMES),
        genres=tuple(genre["name"] for genre in game.get("genres", ()) if "name" in genre),
        cover_url=_cover_url(game.get("cover")),
        critic_score=_critic_score(game),
        hours_to_beat=hours_to_beat,
        source_url=game.get("url"),
    )


def _is_igdb_id(source_id: str) -> bool:
    # Ids go into queries as they are: anything but plain digits must never reach one.
    return source_id.isascii() and source_id.isdigit()


def _release_date(timestamp: int | None) -> date | None:
    return datetime.fromtimestamp(timestamp, UTC).date() if timestamp is not None else None


def _cover_url(cover: dict[str, Any] | None) -> str | None:
    image_id = cover.get("image_id") if cover else None
    return COVER_URL.format(image_id=image_id) if image_id else None


def _critic_score(game: dict[str, Any]) -> int | None:
    rating = game.get("aggregated_rating")
    return math.floor(rating + 0.5) if rating is not None else None  # half up, as people round
