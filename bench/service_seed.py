"""Players and their games, written straight into a benchmark database with bulk Core inserts;
and a job queue that records jobs instead of queueing them.

Shared by bench_service (1,000 players with 20 games) and bench_backlog (one long list).
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bots import parsing
from questrya.common.jobs import JobRequest
from questrya.common.values import GameStatus, Title
from questrya.games.domain import LookupState
from questrya.games.repository import STATUS_RANK
from questrya.metadata.providers.offline import CATALOG_FILE, CATALOG_PACKAGE, OfflineCatalog
from questrya.metadata.repository import SqlFactsRepository
from questrya.orm.database import create_engine, create_session_factory, upgrade_database
from questrya.orm.models import AccountRow, GameRow, PlayerRow

# A list's statuses, repeating every 20 games: mostly backlog, as players' lists are.
STATUS_CYCLE = (
    (GameStatus.PLAYING,) * 2
    + (GameStatus.PAUSED,) * 2
    + (GameStatus.BACKLOG,) * 12
    + (GameStatus.WISHLIST,)
    + (GameStatus.COMPLETED,) * 3
)
FIRST_BACKLOG_INDEX = STATUS_CYCLE.index(GameStatus.BACKLOG)
INSERT_CHUNK = 5_000
SEEDED_AT = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PlayerGames:
    """One seeded player: account external id `number`, the titles of their list (statuses
    follow STATUS_CYCLE), and a title they do not have yet (for /add)."""

    number: int
    titles: tuple[str, ...]
    new_title: str

    @property
    def backlog_title(self) -> str:
        """The first game of theirs in the backlog (for /done)."""
        return self.titles[FIRST_BACKLOG_INDEX]


class RecordingJobQueue:
    """Keeps the ids of the jobs it is asked to queue; no Redis."""

    def __init__(self) -> None:
        self.job_ids: list[str] = []

    def enqueue(self, job: JobRequest) -> None:
        self.job_ids.append(job.job_id)


def player_games(
    count: int, games_per_player: int, *, distinct: int | None = None
) -> list[PlayerGames]:
    """`count` players with `games_per_player` catalog titles each, drawn at random (seeded by
    player number modulo `distinct`, so player n and n + distinct have the same games)."""
    pool = addable_catalog_titles()
    return [
        _catalog_player(number, random.Random(number % (distinct or count)), pool, games_per_player)
        for number in range(count)
    ]


def _catalog_player(
    number: int, shuffler: random.Random, pool: Sequence[str], games_per_player: int
) -> PlayerGames:
    titles = shuffler.sample(pool, games_per_player + 1)
    return PlayerGames(number, tuple(titles[:-1]), new_title=titles[-1])


def made_up_player(number: int, games: int) -> PlayerGames:
    """A player with `games` made-up titles (more than the catalog holds), linked to no facts."""
    titles = tuple(f"Backlog quest {number}-{index}" for index in range(games))
    return PlayerGames(number, titles, new_title=f"Backlog quest {number}-new")


@functools.cache
def addable_catalog_titles() -> list[str]:
    """Catalog titles that `/add <title>` takes whole (no trailing platform word), one per
    folded form."""
    by_folded = {Title(title).folded: title for _, title in catalog_ids_and_titles()}
    return [
        title for title in by_folded.values() if parsing.title_and_platform(title).title == title
    ]


@functools.cache
def catalog_ids_and_titles() -> list[tuple[str, str]]:
    """(id, title) of every game in the bundled catalog."""
    raw = resources.files(CATALOG_PACKAGE).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    return [(game["id"], game["title"]) for game in json.loads(raw)["games"]]


async def seed_database(
    engine: AsyncEngine, players: Sequence[PlayerGames], *, platform: str
) -> None:
    """The catalog's facts, then each player with one account on `platform` and their games."""
    facts_ids = await seed_catalog_facts(engine)
    async with engine.begin() as connection:
        await connection.execute(insert(PlayerRow), [{"id": p.number + 1} for p in players])
        await connection.execute(insert(AccountRow), [_account_row(p, platform) for p in players])
        for chunk in _chunks(_all_game_rows(players, facts_ids, platform), INSERT_CHUNK):
            await connection.execute(insert(GameRow), chunk)
        if connection.dialect.name == "postgresql":
            # Ids were given: move the sequence past them, for players added later.
            await connection.execute(
                text("SELECT setval(pg_get_serial_sequence('players', 'id'), max(id)) FROM players")
            )


async def seed_accounts(url: str, external_ids: Sequence[str], *, platform: str) -> None:
    """A new database at `url` holding one player per external id, with one account on
    `platform`: what the floor's SQL expects to find (bench/service_floor.py)."""
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(PlayerRow), [{"id": n + 1} for n in range(len(external_ids))]
            )
            await connection.execute(
                insert(AccountRow),
                [
                    {"player_id": n + 1, "platform": platform, "external_id": external_id,
                     "display_name": f"Player {n}"}
                    for n, external_id in enumerate(external_ids)
                ],
            )  # fmt: skip
    finally:
        await engine.dispose()


async def seed_catalog_facts(engine: AsyncEngine) -> dict[str, int]:
    """Every catalog game's facts, stored by the facts repository: facts id by title."""
    catalog = OfflineCatalog()
    facts_ids: dict[str, int] = {}
    async with create_session_factory(engine)() as session:
        repository = SqlFactsRepository(session)
        for source_id, title in catalog_ids_and_titles():
            facts = await catalog.details(source_id)
            assert facts is not None
            facts_ids[title] = await repository.upsert(facts)
        await session.commit()
    return facts_ids


def _account_row(player: PlayerGames, platform: str) -> dict[str, Any]:
    return {
        "player_id": player.number + 1,
        "platform": platform,
        "external_id": str(player.number),
        "display_name": f"Player {player.number}",
    }


def _all_game_rows(
    players: Sequence[PlayerGames], facts_ids: dict[str, int], platform: str
) -> Iterator[dict[str, Any]]:
    for player in players:
        for index, title in enumerate(player.titles):
            yield game_row(player, index, title, facts_ids.get(title), platform)


def game_row(
    player: PlayerGames, index: int, title: str, facts_id: int | None, platform: str
) -> dict[str, Any]:
    """The games row of a player's `index`-th game, as the repository would write it."""
    status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
    added_at = SEEDED_AT + timedelta(minutes=index)
    started = status in (GameStatus.PLAYING, GameStatus.PAUSED, GameStatus.COMPLETED)
    completed = status is GameStatus.COMPLETED
    return {
        "player_id": player.number + 1,
        "title": title,
        "title_folded": Title(title).folded,
        "status": status.value,
        "status_rank": STATUS_RANK[status],
        "rating": 7 + index % 3 if completed else None,
        "added_at": added_at,
        "started_at": added_at + timedelta(days=1) if started else None,
        "completed_at": added_at + timedelta(days=20) if completed else None,
        "added_in_platform": platform,
        "added_in_chat_id": str(player.number),
        "lookup_state": (LookupState.FOUND if facts_id else LookupState.NOT_FOUND).value,
        "facts_id": facts_id,
    }


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
