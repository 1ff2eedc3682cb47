"""The fake RAWG API of the tests, serving the offline catalog's games, on a thread of the bench
process: a worker process looks its games up there over HTTP, as it would on rawg.io."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from questrya.metadata.domain import GameFacts
from questrya.metadata.providers.offline import OfflineCatalog
from tests.fakes_servers.rawg import API_KEY, GENRES, PLATFORMS, FakeRawg, rawg_game

START_SECONDS = 10.0
SEARCH_SCORE = "60.0"

__all__ = ["API_KEY", "fake_rawg_serving", "rawg_games"]


def rawg_games(titles: Sequence[str]) -> list[dict[str, Any]]:
    """The catalog's game of each title, as RAWG's /games lists it (platforms and genres the
    fake knows only)."""
    catalog = OfflineCatalog()

    async def facts() -> list[GameFacts]:
        return [(await catalog.search(title, limit=1))[0] for title in titles]

    return [_as_rawg(number, game) for number, game in enumerate(asyncio.run(facts()), 1)]


def _as_rawg(number: int, game: GameFacts) -> dict[str, Any]:
    return rawg_game(
        game_id=number,
        slug=game.source_id,
        name=game.title,
        released=game.release_date.isoformat() if game.release_date else None,
        platforms=[name for name in game.platforms if name in PLATFORMS],
        genres=[name for name in game.genres if name in GENRES],
        image=f"https://media.rawg.io/media/games/{game.source_id}.jpg",
        metacritic=game.critic_score,
        playtime=round(game.hours_to_beat or 0),
        search_score=SEARCH_SCORE,
    )


@contextlib.contextmanager
def fake_rawg_serving(games: list[dict[str, Any]]) -> Iterator[FakeRawg]:
    """A FakeRawg serving `games` on its own thread and event loop until the block ends."""
    started = threading.Event()
    serving: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        async with FakeRawg(games=games) as fake:
            serving.update(fake=fake, loop=asyncio.get_running_loop(), stop=stop)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="fake-rawg", daemon=True)
    thread.start()
    if not started.wait(START_SECONDS):
        raise RuntimeError("the fake RAWG did not start")
    try:
        yield serving["fake"]
    finally:
        serving["loop"].call_soon_threadsafe(serving["stop"].set)
        thread.join(START_SECONDS)
