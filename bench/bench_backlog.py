"""Backlog size: /backlog latency with 100 games against 10,000 games in one backlog, through the
router and SqlUnitOfWork, on SQLite and PostgreSQL: a page must cost the same however long the
list is.

Run alone: .venv/bin/python -m bench.bench_backlog
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.bench_service import PLATFORM, Implementation, Step, Tally, router_implementation
from bench.common import (
    BenchResult,
    PostgresUnavailable,
    Ratio,
    format_count,
    format_millis,
    percentile,
    print_result,
    private_postgres_database,
)
from bench.service_seed import PlayerGames, made_up_player, seed_database
from questrya.orm.database import create_engine, upgrade_database

SMALL, LARGE = 100, 10_000
# Pages the short list has too: the default view (open games) and `all`, several pages deep.
PAGES = (
    "/backlog",
    "/backlog 2",
    "/backlog 5",
    "/backlog all",
    "/backlog all 5",
    "/backlog all 10",
)
# Pages only the long list has: OFFSET walks the index up to them (shown, not held to the goal).
DEEP_PAGES = ("/backlog all 100", "/backlog all 1000")
REPEATS = 100
DEEP_REPEATS = 20
WARM_UP_REPEATS = 5
# Set by the issue: a page of a 10,000-game list at most twice as slow as one of 100 games.
P99_GOAL = 2.0


@dataclass(frozen=True)
class SizeFigures:
    """The latencies of one database's requests, by list size and page."""

    database: str
    tally: Tally | None = None
    skipped: str | None = None

    def samples(self, games: int, pages: Sequence[str] = PAGES) -> list[float]:
        assert self.tally is not None
        return [seconds for page in pages for seconds in self.tally.seconds[_label(games, page)]]

    def p99(self, games: int) -> float:
        return percentile(self.samples(games), 0.99)

    @property
    def ratio(self) -> float:
        return self.p99(LARGE) / self.p99(SMALL)


def run() -> BenchResult:
    """Measure on SQLite, then on PostgreSQL if a server answers."""
    with tempfile.TemporaryDirectory(prefix="questrya-bench-") as directory:
        sqlite_url = f"sqlite+aiosqlite:///{Path(directory) / 'backlog.db'}"
        figures = [asyncio.run(measure("SQLite (WAL, temp file)", sqlite_url))]
    figures.append(asyncio.run(measure_on_postgres()))
    return build_result(figures)


async def measure_on_postgres() -> SizeFigures:
    try:
        async with private_postgres_database() as url:
            return await measure("PostgreSQL (private database)", url)
    except PostgresUnavailable as error:
        return SizeFigures("PostgreSQL", skipped=f"no server answered ({error})")


async def measure(database: str, url: str) -> SizeFigures:
    """One player with 100 games and one with 10,000; the same pages asked of each in turn."""
    small, large = made_up_player(0, SMALL), made_up_player(1, LARGE)
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        await seed_database(engine, [small, large], platform=PLATFORM)
        router = router_implementation(engine)
        await router.run(requests(small, large, PAGES, WARM_UP_REPEATS))
        router.tally = Tally(router.tally.name)
        await router.run(requests(small, large, PAGES, REPEATS))
        await router.run([_step(large, page) for page in DEEP_PAGES] * DEEP_REPEATS)
        _check_no_refusals(router)
        return SizeFigures(database, tally=router.tally)
    finally:
        await engine.dispose()


def requests(
    small: PlayerGames, large: PlayerGames, pages: Sequence[str], repeats: int
) -> list[Step]:
    """Each page asked of the short list then of the long one, `repeats` times round."""
    return [
        _step(player, page) for _ in range(repeats) for page in pages for player in (small, large)
    ]


def _step(player: PlayerGames, page: str) -> Step:
    return Step(player.number, _label(len(player.titles), page), page)


def _label(games: int, page: str) -> str:
    return f"{games}:{page}"


def _check_no_refusals(router: Implementation) -> None:
    if router.tally.refused:
        raise RuntimeError(f"{router.tally.refused} /backlog requests were refused")


def build_result(figures: Sequence[SizeFigures]) -> BenchResult:
    measured = [database for database in figures if database.skipped is None]
    return BenchResult(
        title="Backlog size: /backlog p99 with 100 against 10,000 games in one list",
        module="bench.bench_backlog",
        headers=["database", "games in the list", "pages asked", "requests", "p50 ms", "p99 ms"],
        rows=[row for database in measured for row in _rows(database)],
        ratios=[
            Ratio(
                f"{database.database}: p99 at {format_count(LARGE)} ÷ p99 at"
                f" {format_count(SMALL)} (same pages)",
                database.ratio,
                f"<= {P99_GOAL:g} (issue)",
                database.ratio <= P99_GOAL,
            )
            for database in measured
        ],
        notes=_notes(figures),
    )


def _rows(database: SizeFigures) -> list[list[str]]:
    shown = ", ".join(f"`{page}`" for page in PAGES)
    rows = [_row(database, games, shown, database.samples(games)) for games in (SMALL, LARGE)]
    deep = ", ".join(f"`{page}`" for page in DEEP_PAGES)
    deep_samples = database.samples(LARGE, DEEP_PAGES)
    rows.append(_row(database, LARGE, f"{deep} (deep; not in the goal)", deep_samples))
    return rows


def _row(database: SizeFigures, games: int, pages: str, samples: list[float]) -> list[str]:
    return [
        database.database,
        format_count(games),
        pages,
        format_count(len(samples)),
        format_millis(percentile(samples, 0.50)),
        format_millis(percentile(samples, 0.99)),
    ]


def _notes(figures: Sequence[SizeFigures]) -> list[str]:
    notes = [
        f"Two players in one database: one with {format_count(SMALL)} games, one with"
        f" {format_count(LARGE)} (statuses repeating every 20 games: 2 playing, 2 paused, 12"
        " backlog, 1 wishlist, 3 completed), seeded with bulk inserts. Each page is asked of"
        f" the short list then of the long one, {REPEATS} times round, through"
        " `bots.chat.build_router` on SqlUnitOfWork (the player lookup included), one request"
        " at a time; a warm-up round of"
        f" {WARM_UP_REPEATS} goes first, untimed.",
        "A page is the repository's LIMIT/OFFSET query on the (player_id, status_rank, id)"
        " index, so its cost should not grow with the list. The deep pages (only the long list"
        f" has them, {DEEP_REPEATS} requests each) show what OFFSET costs when it has to walk"
        " the index that far.",
    ]
    notes += [f"{db.database} skipped: {db.skipped}." for db in figures if db.skipped]
    return notes


def main() -> None:
    print_result(run())


if __name__ == "__main__":
    main()
