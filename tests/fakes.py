"""In-memory stand-ins for the repositories and the unit of work, for fast service tests.

They implement the same abstract classes as the SQL versions, so a service cannot tell them
apart; the integration suite runs the real ones.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Collection
from datetime import date, datetime

from questrya.common.errors import AlreadyInBacklog
from questrya.common.jobs import JobRequest
from questrya.common.values import ChatAddress, GameStatus
from questrya.games import service as game_service
from questrya.games.domain import Game, GamePage
from questrya.games.repository import STATUS_RANK, GameRepository
from questrya.games.schemas import GameRead
from questrya.groups.domain import Group, GroupPoll
from questrya.linking.domain import LinkCode
from questrya.metadata.domain import GameFacts
from questrya.metadata.repository import FactsRepository
from questrya.notifications.domain import Notification
from questrya.notifications.repository import NotificationRepository
from questrya.outbox.repository import OutboxRepository
from questrya.unit_of_work import UnitOfWork
from questrya.users.domain import Account, AccountKey, Player
from questrya.users.repository import PlayerRepository
from tests.fake_groups import FakeGroupRepository
from tests.fake_links import FakeLinkRepository


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

    async def get_by_titles(
        self, player_id: int, folded_titles: Collection[str]
    ) -> dict[str, Game]:
        mine = self._mine(player_id)
        return {g.title.folded: copy.deepcopy(g) for g in mine if g.title.folded in folded_titles}

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

    async def list_with_statuses(
        self, player_id: int, statuses: Collection[GameStatus]
    ) -> list[Game]:
        chosen = [g for g in self._mine(player_id) if g.status in statuses]
        return copy.deepcopy(sorted(chosen, key=lambda g: g.id or 0))

    async def get_last_played(self, player_id: int) -> Game | None:
        played = [g for g in self._mine(player_id) if g.started_at or g.completed_at]
        return copy.deepcopy(max(played, key=_last_played_at, default=None))

    async def move_added_in(self, old: ChatAddress, new: ChatAddress) -> None:
        for game in self.rows.values():
            if game.added_in == old:
                game.added_in = new

    async def list_for_players(
        self, player_ids: Collection[int], statuses: Collection[GameStatus]
    ) -> list[Game]:
        chosen = [g for g in self.rows.values() if g.player_id in player_ids]
        chosen = [g for g in chosen if g.status in statuses]
        return copy.deepcopy(sorted(chosen, key=lambda g: (g.player_id, g.id or 0)))

    async def list_linked_to_facts(
        self, facts_ids: Collection[int], status: GameStatus
    ) -> list[Game]:
        chosen = [g for g in self.rows.values() if g.facts_id in facts_ids and g.status is status]
        return copy.deepcopy(sorted(chosen, key=lambda g: g.id or 0))

    async def copy_games(self, *, from_player_id: int, to_player_id: int) -> None:
        for game in sorted(self._mine(from_player_id), key=lambda g: g.id or 0):
            copied = dataclasses.replace(copy.deepcopy(game), player_id=to_player_id)
            copied.id = next(self._ids)
            self.rows[copied.id] = copied

    def _mine(self, player_id: int) -> list[Game]:
        return [g for g in self.rows.values() if g.player_id == player_id]


def _last_played_at(game: Game) -> tuple[datetime, int]:
    """The later of start and completion, then the id, as the SQL repository orders them."""
    moments = [moment for moment in (game.started_at, game.completed_at) if moment is not None]
    return max(moments), game.id or 0


class FakePlayerRepository(PlayerRepository):
    def __init__(self, players: dict[int, Player]) -> None:
        self.players = players

    async def find_account(self, key: AccountKey) -> Account | None:
        player = await self.get_by_account(key)
        accounts = player.accounts if player else []
        return next((account for account in accounts if account.key == key), None)

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

    async def display_names(self, player_ids: Collection[int], platform: str) -> dict[int, str]:
        names: dict[int, str] = {}
        for player_id in player_ids:
            accounts = self.players[player_id].accounts if player_id in self.players else []
            here = [a for a in accounts if a.key.platform == platform] or accounts
            if here:
                names[player_id] = here[0].display_name
        return names

    async def get(self, player_id: int) -> Player | None:
        player = self.players.get(player_id)
        return copy.deepcopy(player) if player and player.accounts else None

    async def move_accounts(self, *, from_player_id: int, to_player_id: int) -> None:
        moving, self.players[from_player_id].accounts = self.players[from_player_id].accounts, []
        for account in moving:
            account.player_id = to_player_id
        self.players[to_player_id].accounts.extend(moving)

    async def detach_account(self, key: AccountKey) -> Player:
        owner = next(p for p in self.players.values() if any(a.key == key for a in p.accounts))
        account = next(a for a in owner.accounts if a.key == key)
        owner.accounts.remove(account)
        new_id = max(self.players) + 1
        account.player_id = new_id
        self.players[new_id] = Player(id=new_id, accounts=[account])
        return copy.deepcopy(self.players[new_id])


class FakeFactsRepository(FactsRepository):
    def __init__(self, rows: dict[int, GameFacts], refreshed_on: dict[int, date]) -> None:
        self.rows = rows
        self.refreshed_on = refreshed_on
        self._ids = itertools.count(max(rows, default=0) + 1)

    async def upsert(self, facts: GameFacts) -> int:
        facts_id = next(
            (
                facts_id
                for facts_id, stored in self.rows.items()
                if (stored.source, stored.source_id) == (facts.source, facts.source_id)
            ),
            None,
        )
        if facts_id is None:
            facts_id = next(self._ids)
        # Aliases are not stored, as in the SQL repository.
        self.rows[facts_id] = dataclasses.replace(facts, aliases=())
        return facts_id

    async def get(self, facts_id: int) -> GameFacts | None:
        return self.rows.get(facts_id)

    async def ids_released_on(self, day: date) -> list[int]:
        return sorted(i for i, facts in self.rows.items() if facts.release_date == day)

    async def get_many(self, facts_ids: Collection[int]) -> dict[int, GameFacts]:
        return {facts_id: self.rows[facts_id] for facts_id in facts_ids if facts_id in self.rows}

    async def list_for_refresh(
        self, *, source: str, not_refreshed_on: date, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        due = [
            (facts_id, facts.source_id)
            for facts_id, facts in sorted(self.rows.items())
            if facts.source == source
            and facts_id > after_id
            and self.refreshed_on.get(facts_id) != not_refreshed_on
        ]
        return due[:limit]

    async def count_for_refresh(self, *, source: str, not_refreshed_on: date) -> int:
        return sum(
            1
            for facts_id, facts in self.rows.items()
            if facts.source == source and self.refreshed_on.get(facts_id) != not_refreshed_on
        )

    async def update_scores(self, scores: dict[int, int | None], *, refreshed_on: date) -> int:
        changed = 0
        for facts_id, score in scores.items():
            if facts_id in self.rows:
                changed += self.rows[facts_id].critic_score != score
                self.rows[facts_id] = dataclasses.replace(self.rows[facts_id], critic_score=score)
                self.refreshed_on[facts_id] = refreshed_on
        return changed


class FakeNotificationRepository(NotificationRepository):
    def __init__(
        self, rows: dict[int, Notification], disabled_chats: dict[ChatAddress, str]
    ) -> None:
        self.rows = rows
        self.disabled_chats = disabled_chats
        self._ids = itertools.count(max(rows, default=0) + 1)

    async def add_once(self, notification: Notification) -> Notification:
        stored = next(
            (n for n in self.rows.values() if n.event_key == notification.event_key), None
        )
        if stored is None:
            stored = copy.deepcopy(notification)
            stored.id = next(self._ids)
            self.rows[stored.id] = stored
        return copy.deepcopy(stored)

    async def get(self, notification_id: int) -> Notification | None:
        return copy.deepcopy(self.rows.get(notification_id))

    async def save(self, notification: Notification) -> None:
        assert notification.id in self.rows
        self.rows[notification.id] = copy.deepcopy(notification)

    async def is_disabled(self, address: ChatAddress) -> bool:
        return address in self.disabled_chats

    async def disable(self, address: ChatAddress, *, reason: str, on: datetime) -> None:
        self.disabled_chats.setdefault(address, reason)

    async def enable(self, address: ChatAddress) -> bool:
        return self.disabled_chats.pop(address, None) is not None


class FakeOutboxRepository(OutboxRepository):
    def __init__(self, rows: dict[str, tuple[JobRequest, datetime]]) -> None:
        self.rows = rows

    async def add(self, job: JobRequest, *, on: datetime) -> None:
        self.rows.setdefault(job.job_id, (job, on))

    async def remove(self, job_ids: Collection[str]) -> None:
        for job_id in job_ids:
            self.rows.pop(job_id, None)

    async def list_pending(self, *, recorded_before: datetime, limit: int) -> list[JobRequest]:
        pending = sorted(
            (on, job.job_id, job) for job, on in self.rows.values() if on < recorded_before
        )
        return [job for _, _, job in pending[:limit]]


class FakeUnitOfWork(UnitOfWork):
    """Keeps committed state in dicts; a rollback restores the last committed copy."""

    def __init__(self) -> None:
        self.job_queue = RecordingJobQueue()
        super().__init__(self.job_queue)
        self.committed_games: dict[int, Game] = {}
        self.committed_players: dict[int, Player] = {}
        self.committed_groups: dict[ChatAddress, Group] = {}
        self.committed_polls: list[GroupPoll] = []
        self.committed_facts: dict[int, GameFacts] = {}
        self.committed_refreshed_on: dict[int, date] = {}
        self.committed_notifications: dict[int, Notification] = {}
        self.committed_disabled_chats: dict[ChatAddress, str] = {}
        self.committed_outbox: dict[str, tuple[JobRequest, datetime]] = {}
        self.committed_link_codes: dict[int, LinkCode] = {}
        self.committed_link_refusals: list[tuple[AccountKey, datetime]] = []
        self.commits = 0

    async def _begin(self) -> None:
        self.fake_games = FakeGameRepository(copy.deepcopy(self.committed_games))
        self.fake_players = FakePlayerRepository(copy.deepcopy(self.committed_players))
        self.fake_groups = FakeGroupRepository(
            copy.deepcopy(self.committed_groups), copy.deepcopy(self.committed_polls)
        )
        self.groups = self.fake_groups
        self.fake_links = FakeLinkRepository(
            copy.deepcopy(self.committed_link_codes),
            copy.deepcopy(self.committed_link_refusals),
        )
        self.links = self.fake_links
        self.fake_facts = FakeFactsRepository(
            copy.deepcopy(self.committed_facts), copy.deepcopy(self.committed_refreshed_on)
        )
        self.fake_notifications = FakeNotificationRepository(
            copy.deepcopy(self.committed_notifications),
            copy.deepcopy(self.committed_disabled_chats),
        )
        self.fake_outbox = FakeOutboxRepository(copy.deepcopy(self.committed_outbox))
        self.games, self.players = self.fake_games, self.fake_players
        self.facts, self.notifications = self.fake_facts, self.fake_notifications
        self.outbox = self.fake_outbox

    async def _commit(self) -> None:
        self.committed_games = copy.deepcopy(self.fake_games.rows)
        self.committed_players = copy.deepcopy(self.fake_players.players)
        self.committed_groups = copy.deepcopy(self.fake_groups.groups)
        self.committed_polls = copy.deepcopy(self.fake_groups.polls)
        self.committed_facts = copy.deepcopy(self.fake_facts.rows)
        self.committed_refreshed_on = copy.deepcopy(self.fake_facts.refreshed_on)
        self.committed_notifications = copy.deepcopy(self.fake_notifications.rows)
        self.committed_disabled_chats = copy.deepcopy(self.fake_notifications.disabled_chats)
        self.committed_outbox = copy.deepcopy(self.fake_outbox.rows)
        self.committed_link_codes = copy.deepcopy(self.fake_links.codes)
        self.committed_link_refusals = copy.deepcopy(self.fake_links.refusals)
        self.commits += 1

    async def rollback(self) -> None:
        """Nothing to undo: uncommitted changes live only in this unit's copies."""


async def identify_game(
    uow: UnitOfWork, *, game_id: int, facts_id: int, canonical_title: str
) -> GameRead | None:
    """Link a game to stored facts, committed, as a finished lookup does (without its message)."""
    async with uow:
        identified = await game_service.identify_within(
            uow, game_id=game_id, facts_id=facts_id, canonical_title=canonical_title
        )
        await uow.commit()
    return identified
