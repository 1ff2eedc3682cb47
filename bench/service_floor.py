"""The floor of bench_service: /add, /backlog, /done and /next as the bare reads and writes each
needs, in raw SQLAlchemy Core statements on a connection. No router, no services, no domain, no
ORM objects: what the same database work costs with nothing of Questrya around it. Each statement
is built once, as Questrya's repositories build those of these commands: building one costs more
than SQLite takes to run it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import Integer, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from questrya.common.text import fold
from questrya.orm.models import AccountRow, GameFactsRow, GameRow, JobOutboxRow

PAGE_SIZE = 10
# Status ranks (see questrya.games.repository.STATUS_RANK), written out: the floor has no domain.
OPEN_RANKS = (0, 1, 2)  # playing, paused, backlog
ALL_RANKS = (0, 1, 2, 3, 4, 5)
NEXT_RANKS = (1, 2)  # paused, backlog: what /next ranks
COMPLETED, COMPLETED_RANK = "completed", 4
GAMES = GameRow.__table__
FACTS = GameFactsRow.__table__

FloorCommand = Callable[[str, str], Awaitable[bool]]

PLAYER_ID = select(AccountRow.player_id, AccountRow.display_name).where(
    AccountRow.platform == bindparam("platform"),
    AccountRow.external_id == bindparam("external_id"),
)
IN_RANKS = (
    GameRow.player_id == bindparam("player_id"),
    GameRow.status_rank.between(bindparam("lowest_rank"), bindparam("highest_rank")),
    GameRow.status_rank.in_(bindparam("ranks", expanding=True)),
)
BACKLOG_PAGE = (
    select(GAMES)
    .where(*IN_RANKS)
    .order_by(GameRow.status_rank, GameRow.id)
    .limit(PAGE_SIZE + 1)
    .offset(bindparam("skipped", type_=Integer))
)
TITLE_TAKEN = select(GameRow.id).where(
    GameRow.player_id == bindparam("player_id"), GameRow.title_folded == bindparam("folded")
)
ADD_GAME = insert(GAMES).returning(GameRow.id)
GAME_TO_COMPLETE = (
    select(GameRow.id)
    .where(
        GameRow.player_id == bindparam("player_id"),
        GameRow.title_folded.in_(bindparam("folded_titles", expanding=True)),
    )
    .order_by(func.length(GameRow.title_folded).desc())
    .limit(1)
)
COMPLETE_GAME = (
    update(GAMES)
    .where(GameRow.id == bindparam("game_id"))
    .values(status=COMPLETED, status_rank=COMPLETED_RANK)
)
GAMES_TO_RANK = select(GAMES).where(*IN_RANKS).order_by(GameRow.id)
LAST_PLAYED = (
    select(GAMES)
    .where(
        GameRow.player_id == bindparam("player_id"),
        or_(GameRow.started_at.is_not(None), GameRow.completed_at.is_not(None)),
    )
    .order_by(func.coalesce(GameRow.completed_at, GameRow.started_at).desc())
    .limit(1)
)
FACTS_BY_IDS = select(FACTS).where(GameFactsRow.id.in_(bindparam("facts_ids", expanding=True)))
RECORD_JOB = insert(JobOutboxRow.__table__)
FORGET_JOB = delete(JobOutboxRow.__table__).where(JobOutboxRow.job_id == bindparam("job_id"))


class FloorCommands:
    """`await floor.run(external_id, "/done Hades 8")`: True if the command was refused."""

    def __init__(self, engine: AsyncEngine, *, platform: str) -> None:
        self._engine = engine
        self._platform = platform
        self.job_ids: list[str] = []
        self._commands: dict[str, FloorCommand] = {
            "add": self.add,
            "backlog": self.backlog,
            "done": self.done,
            "next": self.next,
        }

    async def run(self, external_id: str, text: str) -> bool:
        name, _, rest = text.removeprefix("/").partition(" ")
        return await self._commands[name](external_id, rest.strip())

    async def backlog(self, external_id: str, rest: str) -> bool:
        """One page of the open games, or of all of them."""
        words = rest.split()
        ranks = ALL_RANKS if "all" in words else OPEN_RANKS
        page = next((int(word) for word in words if word.isdigit()), 1)
        async with self._engine.connect() as connection:
            player_id = await self._player_id(connection, external_id)
            await connection.execute(
                BACKLOG_PAGE, {**_ranked(player_id, ranks), "skipped": (page - 1) * PAGE_SIZE}
            )
        return False

    async def add(self, external_id: str, title: str) -> bool:
        """A title check, the game and its lookup job's outbox row; the row cleared once queued."""
        folded = fold(title)
        async with self._engine.begin() as connection:
            player_id = await self._player_id(connection, external_id)
            taken = await connection.scalar(TITLE_TAKEN, {"player_id": player_id, "folded": folded})
            if taken is not None:
                return True
            game_id = await connection.scalar(
                ADD_GAME, _new_game(player_id, title, folded, self._platform, external_id)
            )
            assert game_id is not None
            job_id = await _record_job(connection, f"fetch-metadata-{game_id}", game_id)
        await self._queue(job_id)
        return False

    async def done(self, external_id: str, rest: str) -> bool:
        """The game (its title with or without the trailing number), completed and rated, and
        its announcement job's outbox row; the row cleared once queued."""
        title, _, rating = rest.rpartition(" ")
        now = datetime.now(UTC)
        async with self._engine.begin() as connection:
            player_id = await self._player_id(connection, external_id)
            game_id = await connection.scalar(
                GAME_TO_COMPLETE,
                {"player_id": player_id, "folded_titles": [fold(rest), fold(title)]},
            )
            if game_id is None:
                return True
            await connection.execute(
                COMPLETE_GAME, {"game_id": game_id, "rating": int(rating), "completed_at": now}
            )
            job_id = await _record_job(
                connection, f"announce-completion-{game_id}-{now.isoformat()}", game_id
            )
        await self._queue(job_id)
        return False

    async def next(self, external_id: str, rest: str) -> bool:
        """The games /next ranks, the last one played, and the facts of all of them."""
        async with self._engine.connect() as connection:
            player_id = await self._player_id(connection, external_id)
            ranked = _ranked(player_id, NEXT_RANKS)
            waiting = (await connection.execute(GAMES_TO_RANK, ranked)).all()
            last_played = (await connection.execute(LAST_PLAYED, {"player_id": player_id})).all()
            facts_ids = {row.facts_id for row in [*waiting, *last_played] if row.facts_id}
            await connection.execute(FACTS_BY_IDS, {"facts_ids": sorted(facts_ids)})
        return False

    async def _player_id(self, connection: AsyncConnection, external_id: str) -> int:
        account = (
            await connection.execute(
                PLAYER_ID, {"platform": self._platform, "external_id": external_id}
            )
        ).one()
        return int(account.player_id)

    async def _queue(self, job_id: str) -> None:
        """The job is queued (recorded here), then its outbox row goes, in a transaction."""
        self.job_ids.append(job_id)
        async with self._engine.begin() as connection:
            await connection.execute(FORGET_JOB, {"job_id": job_id})


async def _record_job(connection: AsyncConnection, job_id: str, game_id: int) -> str:
    await connection.execute(
        RECORD_JOB,
        {
            "job_id": job_id,
            "function": "bench.job",
            "queue": "metadata",
            "args": [game_id],
            "recorded_at": datetime.now(UTC),
        },
    )
    return job_id


def _ranked(player_id: int, ranks: tuple[int, ...]) -> dict[str, object]:
    """The parameters of IN_RANKS."""
    return {
        "player_id": player_id,
        "lowest_rank": ranks[0],
        "highest_rank": ranks[-1],
        "ranks": list(ranks),
    }


def _new_game(
    player_id: int, title: str, folded: str, platform: str, chat_id: str
) -> dict[str, object]:
    return {
        "player_id": player_id,
        "title": title,
        "title_folded": folded,
        "status": "backlog",
        "status_rank": 2,
        "added_at": datetime.now(UTC),
        "added_in_platform": platform,
        "added_in_chat_id": chat_id,
        "lookup_state": "pending",
    }
