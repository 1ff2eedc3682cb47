"""In-memory stand-ins for the repositories and the unit of work, for fast service tests.

They implement the same abstract classes as the SQL versions, so a service cannot tell them
apart; the integration suite runs the real ones.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Collection
from datetime import datetime

from questrya.common.errors import AlreadyInBacklog
from questrya.common.jobs import JobRequest
from questrya.common.values import GameStatus
from questrya.games.domain import Game, GamePage
from questrya.games.repository import STATUS_RANK, GameRepository
from questrya.unit_of_work import UnitOfWork
from questrya.users.domain import AccountKey, Player
from questrya.users.repository import PlayerRepository


class RecordingJobQueue:
    """Remembers what was queued, once per job id, like the RQ queue does."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobRequest] = {}

    def enqueue(self, job: JobRequest) -> None:
        self.jobs.setdefault(job.job_id, job)


class FakeGameRepository(GameRepository):
    def __init__(self, rows: dict[int, Game]) -> None:
        self.rows = rows
        self._ids = itertools.count(max(rows, default=0) + 1)

    async def add(self, game: Game) -> Game:
        if await self.get_by_title(game.player_id, game.title.folded):
            raise AlreadyInBacklog(game.title.text)
        game.id = next(self._ids)
        self.rows[game.id] = copy.deepcopy(game)
        return game

    async def save(self, game: Game) -> None:
        assert game.id in self.rows
        self.rows[game.id] = copy.deepcopy(game)

    async def remove(self, game: Game) -> None:
        del self.rows[game.id]  # type: ignore[arg-type]

    async def get(self, game_id: int) -> Game | None:
        game = self.rows.get(game_id)
        return copy.deepcopy(game)

    async def get_by_title(self, player_id: int, folded_title: str) -> Game | None:
        return next(
            (copy.deepcopy(g) for g in self._mine(player_id) if g.title.folded == folded_title),
            None,
        )

    async def list_titles(self, player_id: int) -> dict[int, str]:
        return {g.id: g.title.text for g in self._mine(player_id) if g.id is not None}

    async def list_backlog(
        self, player_id: int, statuses: Collection[GameStatus], page: int, page_size: int
    ) -> GamePage:
        chosen = [g for g in self._mine(player_id) if g.status in statuses]
        chosen.sort(key=lambda g: (STATUS_RANK[g.status], g.id))
        start = (page - 1) * page_size
        window = chosen[start : start + page_size + 1]
        return GamePage(
            games=copy.deepcopy(window[:page_size]), number=page, has_next=len(window) > page_size
        )

    async def count_by_status(self, player_id: int) -> dict[GameStatus, int]:
        counts: dict[GameStatus, int] = {}
        for game in self._mine(player_id):
            counts[game.status] = counts.get(game.status, 0) + 1
        return counts

    async def rating_summary(self, player_id: int) -> tuple[int, float | None]:
        ratings = [g.rating.value for g in self._mine(player_id) if g.rating]
        return len(ratings), (sum(ratings) / len(ratings) if ratings else None)

    async def count_completed_since(self, player_id: int, since: datetime) -> int:
        return sum(1 for g in self._mine(player_id) if g.completed_at and g.completed_at >= since)

    def _mine(self, player_id: int) -> list[Game]:
        return [g for g in self.rows.values() if g.player_id == player_id]


class FakePlayerRepository(PlayerRepository):
    def __init__(self, players: dict[int, Player]) -> None:
        self.players = players

    async def get_by_account(self, key: AccountKey) -> Player | None:
        return next(
            (
                copy.deepcopy(player)
                for player in self.players.values()
                if any(account.key == key for account in player.accounts)
            ),
            None,
        )

    async def add(self, player: Player) -> Player:
        player.id = len(self.players) + 1
        for account in player.accounts:
            account.player_id = player.id
        self.players[player.id] = copy.deepcopy(player)
        return player

    async def rename_account(self, key: AccountKey, display_name: str) -> None:
        for player in self.players.values():
            for account in player.accounts:
                if account.key == key:
                    account.display_name = display_name


class FakeUnitOfWork(UnitOfWork):
    """Keeps committed state in dicts; a rollback restores the last committed copy."""

    def __init__(self) -> None:
        self.job_queue = RecordingJobQueue()
        super().__init__(self.job_queue)
        self.committed_games: dict[int, Game] = {}
        self.committed_players: dict[int, Player] = {}
        self.commits = 0

    async def _begin(self) -> None:
        self.fake_games = FakeGameRepository(copy.deepcopy(self.committed_games))
        self.fake_players = FakePlayerRepository(copy.deepcopy(self.committed_players))
        self.games, self.players = self.fake_games, self.fake_players

    async def _commit(self) -> None:
        self.committed_games = copy.deepcopy(self.fake_games.rows)
        self.committed_players = copy.deepcopy(self.fake_players.players)
        self.commits += 1

    async def rollback(self) -> None:
        """Nothing to undo: uncommitted changes live only in this unit's copies."""
