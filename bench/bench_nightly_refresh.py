"""The nightly score refresh (metadata_service.refresh_scores) on 10k and 100k games, against a
deliberately naive loop that loads each game's facts and saves them one by one, on SQLite.

Run alone: .venv/bin/python -m bench.bench_nightly_refresh
"""

from __future__ import annotations

import asyncio
import functools
import json
import statistics
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import (
    BenchResult,
    Ratio,
    format_count,
    format_seconds,
    print_result,
    timed,
)
from questrya.common.jobs import JobRequest
from questrya.common.values import GameStatus
from questrya.games.domain import LookupState
from questrya.games.repository import STATUS_RANK
from questrya.metadata import service as metadata_service
from questrya.metadata.providers.offline import CATALOG_FILE, CATALOG_PACKAGE, OfflineCatalog
from questrya.orm.database import create_engine, create_session_factory, upgrade_database
from questrya.orm.models import GameFactsRow, GameRow, PlayerRow
from questrya.unit_of_work import SqlUnitOfWork

GAME_COUNTS = (10_000, 100_000)
# The naive loop costs about 2 ms a game: timed on all of 10k games, on the first 10k of 100k.
NAIVE_SAMPLE = 10_000
GAMES_PER_PLAYER = 1_000
INSERT_CHUNK = 10_000
# Each night refreshes every game again. The first night only warms up (statement caches, page
# cache); the median of the next ones is reported, as other processes share the machine.
BATCHED_NIGHTS = 5
WARM_UP_NIGHTS = 1
FIRST_NIGHT = date(2025, 1, 15)
# Linear scaling: the per-game cost at 100k games stays within this band of the cost at 10k.
SCALING_BAND = (0.8, 1.25)
# Chosen here, not by an issue: batching should cut the per-game cost by an order of magnitude.
SPEEDUP_GOAL = 10.0


class EveryIdScored(OfflineCatalog):
    """The offline catalog, with a made-up stable score for ids it does not know: every row gets
    a value and the provider costs next to nothing, so the time measured is ours."""

    async def critic_scores(self, source_ids: Sequence[str]) -> dict[str, int | None]:
        known = await super().critic_scores(source_ids)
        return {
            source_id: score if score is not None else _made_up_score(source_id)
            for source_id, score in known.items()
        }


class DiscardingJobQueue:
    """The refresh queues no job; a unit of work still needs a queue."""

    def enqueue(self, job: JobRequest) -> None:
        raise AssertionError(f"the score refresh queued {job.job_id}")


@dataclass(frozen=True)
class RefreshFigures:
    """What one database size measured."""

    games: int
    batched_seconds: float
    batched_refreshed: int
    second_run_seconds: float
    second_run_refreshed: int
    naive_seconds: float
    naive_games: int

    @property
    def batched_micros_per_game(self) -> float:
        return self.batched_seconds / self.batched_refreshed * 1e6

    @property
    def naive_micros_per_game(self) -> float:
        return self.naive_seconds / self.naive_games * 1e6

    @property
    def speedup(self) -> float:
        return self.naive_micros_per_game / self.batched_micros_per_game

    @property
    def naive_is_sampled(self) -> bool:
        return self.naive_games < self.games


def run() -> BenchResult:
    """Measure every size, then lay the figures out."""
    with tempfile.TemporaryDirectory(prefix="questrya-bench-") as directory:
        figures = [asyncio.run(measure(games, Path(directory))) for games in GAME_COUNTS]
    return build_result(figures)


async def measure(games: int, directory: Path) -> RefreshFigures:
    """Seed a fresh database with `games` games, then time the refresh and the naive loop."""
    url = f"sqlite+aiosqlite:///{directory / f'refresh-{games}.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        await seed(engine, games)
        return await time_refreshes(create_session_factory(engine), games)
    finally:
        await engine.dispose()


async def time_refreshes(sessions: async_sessionmaker[AsyncSession], games: int) -> RefreshFigures:
    """The refresh on several nights, again on the last night, then the naive loop."""
    provider = EveryIdScored()
    nights = [
        FIRST_NIGHT + timedelta(days=number) for number in range(WARM_UP_NIGHTS + BATCHED_NIGHTS)
    ]
    runs = [await timed_refresh(sessions, provider, night) for night in nights]
    batched_runs = runs[WARM_UP_NIGHTS:]
    second_run_seconds, second_run_refreshed = await timed_refresh(sessions, provider, nights[-1])
    naive_ids = (await list_facts_ids(sessions))[:NAIVE_SAMPLE]
    with timed() as naive:
        await naive_refresh(sessions, provider, naive_ids, day=nights[-1] + timedelta(days=1))
    return RefreshFigures(
        games=games,
        batched_seconds=statistics.median(seconds for seconds, _ in batched_runs),
        batched_refreshed=_same_count(refreshed for _, refreshed in batched_runs),
        second_run_seconds=second_run_seconds,
        second_run_refreshed=second_run_refreshed,
        naive_seconds=naive.seconds,
        naive_games=len(naive_ids),
    )


async def timed_refresh(
    sessions: async_sessionmaker[AsyncSession], provider: OfflineCatalog, night: date
) -> tuple[float, int]:
    """The production refresh, as the nightly job runs it: (seconds, games refreshed)."""
    with timed() as refresh:
        refreshed = await metadata_service.refresh_scores(
            uow_factory=lambda: SqlUnitOfWork(sessions, DiscardingJobQueue()),
            provider=provider,
            day=night,
        )
    return refresh.seconds, refreshed.checked


def _same_count(counts: Iterable[int]) -> int:
    distinct = set(counts)
    if len(distinct) != 1:
        raise RuntimeError(f"the nights refreshed different numbers of games: {distinct}")
    return distinct.pop()


async def naive_refresh(
    sessions: async_sessionmaker[AsyncSession],
    provider: OfflineCatalog,
    facts_ids: Sequence[int],
    *,
    day: date,
) -> None:
    """The baseline, naive on purpose: per game, load the row, ask the provider for that one
    score, save it and commit."""
    for facts_id in facts_ids:
        async with sessions() as session:
            row = await session.get_one(GameFactsRow, facts_id)
            scores = await provider.critic_scores([row.source_id])
            row.critic_score = scores[row.source_id]
            row.refreshed_on = day
            await session.commit()


async def list_facts_ids(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """Every game facts id, in id order: what the naive loop walks."""
    async with sessions() as session:
        return list(
            (await session.scalars(select(GameFactsRow.id).order_by(GameFactsRow.id))).all()
        )


async def seed(engine: AsyncEngine, games: int) -> None:
    """`games` facts rows (real catalog ids first, then made-up ones) and one player game per
    facts row, a thousand games a player; bulk inserts with SQLAlchemy Core."""
    players = range(1, games // GAMES_PER_PLAYER + 2)
    async with engine.begin() as connection:
        await connection.execute(insert(PlayerRow), [{"id": player} for player in players])
        for chunk in _chunks(range(1, games + 1), INSERT_CHUNK):
            await connection.execute(insert(GameFactsRow), [_facts_row(n) for n in chunk])
            await connection.execute(insert(GameRow), [_game_row(n) for n in chunk])


def _facts_row(number: int) -> dict[str, Any]:
    catalog = _catalog_ids_and_titles()
    source_id, title = catalog[number - 1] if number <= len(catalog) else (f"bench-{number}",) * 2
    return {
        "id": number,
        "source": "offline",
        "source_id": source_id,
        "title": title,
        "platforms": [],
        "genres": [],
    }


def _game_row(number: int) -> dict[str, Any]:
    title = f"Bench game {number}"
    return {
        "id": number,
        "player_id": (number - 1) // GAMES_PER_PLAYER + 1,
        "title": title,
        "title_folded": title.lower(),
        "status": GameStatus.BACKLOG.value,
        "status_rank": STATUS_RANK[GameStatus.BACKLOG],
        "added_at": datetime.now(UTC),
        "lookup_state": LookupState.FOUND.value,
        "facts_id": number,
    }


@functools.cache
def _catalog_ids_and_titles() -> list[tuple[str, str]]:
    """(id, title) of every game in the bundled catalog, for the first facts rows."""
    raw = resources.files(CATALOG_PACKAGE).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    return [(game["id"], game["title"]) for game in json.loads(raw)["games"]]


def _chunks(numbers: range, size: int) -> list[range]:
    return [numbers[start : start + size] for start in range(0, len(numbers), size)]


def _made_up_score(source_id: str) -> int:
    return 50 + zlib.crc32(source_id.encode()) % 50


def build_result(figures: Sequence[RefreshFigures]) -> BenchResult:
    """The table, the ratios and their goals."""
    small, large = figures[0], figures[-1]
    scaling = large.batched_micros_per_game / small.batched_micros_per_game
    ratios = [
        Ratio(
            f"speed-up at {format_count(size.games)} (naive µs/game ÷ batched µs/game)",
            size.speedup,
            f">= {SPEEDUP_GOAL:g} (set here)",
            size.speedup >= SPEEDUP_GOAL,
        )
        for size in figures
    ]
    ratios.append(
        Ratio(
            f"batched µs/game, {format_count(large.games)} ÷ {format_count(small.games)}",
            scaling,
            f"~1 ({SCALING_BAND[0]}–{SCALING_BAND[1]}): linear",
            SCALING_BAND[0] <= scaling <= SCALING_BAND[1],
        )
    )
    return BenchResult(
        title="Nightly score refresh (SQLite, offline provider)",
        module="bench.bench_nightly_refresh",
        headers=["games", "run", "games refreshed", "seconds", "µs/game"],
        rows=[row for size in figures for row in _rows(size)],
        ratios=ratios,
        notes=_notes(figures),
    )


def _rows(size: RefreshFigures) -> list[list[str]]:
    naive_label = (
        f"naive loop, SAMPLED: first {format_count(size.naive_games)} games"
        if size.naive_is_sampled
        else "naive loop, every game"
    )
    return [
        [
            format_count(size.games),
            f"refresh_scores (batched), median of {BATCHED_NIGHTS} nights after a warm-up",
            format_count(size.batched_refreshed),
            format_seconds(size.batched_seconds),
            f"{size.batched_micros_per_game:.1f}",
        ],
        [
            format_count(size.games),
            "refresh_scores again, same night",
            format_count(size.second_run_refreshed),
            format_seconds(size.second_run_seconds),
            "–",
        ],
        [
            format_count(size.games),
            naive_label,
            format_count(size.naive_games),
            format_seconds(size.naive_seconds),
            f"{size.naive_micros_per_game:.1f}",
        ],
    ]


def _notes(figures: Sequence[RefreshFigures]) -> list[str]:
    idempotent = all(size.second_run_refreshed == 0 for size in figures)
    return [
        "Idempotent per night: the second run refreshed "
        + ("0 rows at every size." if idempotent else "**some rows again** (bug)."),
        "The naive loop (per game: SELECT the row, critic_scores([one id]), UPDATE, commit) runs"
        f" another night on the first {format_count(NAIVE_SAMPLE)} games at most: every game of"
        " the smaller database, a sample of the larger one, whose µs/game stands for all of it.",
        "The provider is the offline catalog, with a made-up score for ids outside it, so the"
        " time is the database work and the refresh loop, not the provider.",
    ]


def main() -> None:
    print_result(run())


if __name__ == "__main__":
    main()
