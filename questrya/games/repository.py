"""Storage of games: the abstract repository, and its SQLAlchemy implementation.

ORM rows never leave this module: methods take and return domain `Game`s. Nothing here commits;
the unit of work does, once per use case.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.common.errors import AlreadyInBacklog, GameNotFound
from questrya.common.values import ChatAddress, GameRating, GameStatus, Platform, Title
from questrya.games.domain import Game, GamePage, LookupState
from questrya.orm.models import MAX_ROW_ID, GameRow, insert_built_once, table_of


class GameRepository(abc.ABC):
    """All queries on games, named for what they return."""

    @abc.abstractmethod
    async def add(self, game: Game) -> Game:
        """Store a new game and give it its id; `AlreadyInBacklog` if the player has the title."""

    @abc.abstractmethod
    async def save(self, game: Game) -> None:
        """Write back a changed game (status, rating, dates, platform, lookup and facts)."""

    @abc.abstractmethod
    async def remove(self, game: Game) -> None:
        """Delete a game from its player's list."""

    @abc.abstractmethod
    async def get(self, game_id: int) -> Game | None:
        """The game with this id, or None."""

    async def get_by_title(self, player_id: int, folded_title: str) -> Game | None:
        """The player's game whose folded title is exactly `folded_title`, or None."""
        return (await self.get_by_titles(player_id, (folded_title,))).get(folded_title)

    @abc.abstractmethod
    async def get_by_titles(
        self, player_id: int, folded_titles: Collection[str]
    ) -> dict[str, Game]:
        """Folded title -> the player's game with it, for each of `folded_titles` they have."""

    @abc.abstractmethod
    async def list_titles(self, player_id: int) -> dict[int, str]:
        """Game id -> title of every game the player has, for fuzzy matching."""

    @abc.abstractmethod
    async def list_backlog(
        self,
        player_id: int,
        statuses: Collection[GameStatus],
        page: int,
        page_size: int,
    ) -> GamePage:
        """One page of the player's games in `statuses`, by status then by when added.

        The cost of a page does not grow with the size of the list.
        """

    @abc.abstractmethod
    async def count_by_status(self, player_id: int) -> dict[GameStatus, int]:
        """How many games the player has in each status (absent statuses are left out)."""

    @abc.abstractmethod
    async def rating_summary(self, player_id: int) -> tuple[int, float | None]:
        """How many of the player's games are rated, and their average rating."""

    @abc.abstractmethod
    async def count_completed_since(self, player_id: int, since: datetime) -> int:
        """How many games the player completed at or after `since`."""

    @abc.abstractmethod
    async def list_with_statuses(
        self, player_id: int, statuses: Collection[GameStatus]
    ) -> list[Game]:
        """Every game of the player's in `statuses`, in the order they were added."""

    @abc.abstractmethod
    async def get_last_played(self, player_id: int) -> Game | None:
        """The player's game most recently started or completed, or None if none ever was."""

    @abc.abstractmethod
    async def move_added_in(self, old: ChatAddress, new: ChatAddress) -> None:
        """Games added in the chat `old` were added in `new` (the chat changed its address)."""

    @abc.abstractmethod
    async def list_for_players(
        self, player_ids: Collection[int], statuses: Collection[GameStatus]
    ) -> list[Game]:
        """Every game in `statuses` of any of these players, by player then when added."""

    @abc.abstractmethod
    async def list_linked_to_facts(
        self, facts_ids: Collection[int], status: GameStatus
    ) -> list[Game]:
        """Every game in `status`, of any player, linked to one of these facts, by id."""

    @abc.abstractmethod
    async def copy_games(self, *, from_player_id: int, to_player_id: int) -> None:
        """Give `to_player_id` a copy of every game of `from_player_id`, facts and all (an
        unlinked account keeps the backlog it shared)."""


# Stored with each row (see GameRow.status_rank): the order of a player's list.
STATUS_RANK = {
    GameStatus.PLAYING: 0,
    GameStatus.PAUSED: 1,
    GameStatus.BACKLOG: 2,
    GameStatus.WISHLIST: 3,
    GameStatus.COMPLETED: 4,
    GameStatus.ABANDONED: 5,
}


class SqlGameRepository(GameRepository):
    """Games stored with SQLAlchemy, in the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # The columns of each game as read or written here: save() writes only those that
        # changed since, so a column another process wrote meanwhile (a worker storing the
        # game's facts) is not overwritten with the value read before it.
        self._stored: dict[int, dict[str, Any]] = {}

    async def add(self, game: Game) -> Game:
        # ON CONFLICT DO NOTHING: a title the player has already (perhaps added a moment ago
        # in another process) stores nothing and leaves the transaction usable.
        values = _row_values(game)
        game_id = await self._session.scalar(_ADD_GAME(self._session), values)
        if game_id is None:
            existing = await self.get_by_title(game.player_id, game.title.folded)
            raise AlreadyInBacklog((existing or game).title.text)
        game.id = game_id
        self._stored[game_id] = values
        return game

    async def save(self, game: Game) -> None:
        game_id = game.id or 0
        if game_id not in self._stored and await self.get(game_id) is None:
            raise GameNotFound(game.title.text)
        stored, values = self._stored[game_id], _row_values(game)
        changed = {column: value for column, value in values.items() if stored[column] != value}
        if changed:
            await self._session.execute(_UPDATE_GAME, {"game_id": game_id, **changed})
            self._stored[game_id] = values

    async def remove(self, game: Game) -> None:
        await self._session.execute(_REMOVE_GAME, {"game_id": game.id})
        self._stored.pop(game.id or 0, None)

    async def get(self, game_id: int) -> Game | None:
        if not 0 < game_id <= MAX_ROW_ID:  # a player's "#99999999999": no row, and no query
            return None
        row = (await self._session.execute(_GAME_BY_ID, {"game_id": game_id})).one_or_none()
        return None if row is None else self._keep(row)

    async def get_by_titles(
        self, player_id: int, folded_titles: Collection[str]
    ) -> dict[str, Game]:
        if not folded_titles:
            return {}
        rows = await self._session.execute(
            _GAMES_BY_TITLES, {"player_id": player_id, "folded_titles": list(folded_titles)}
        )
        return {row.title_folded: self._keep(row) for row in rows}

    async def list_titles(self, player_id: int) -> dict[int, str]:
        rows = await self._session.execute(
            select(GameRow.id, GameRow.title)
            .where(GameRow.player_id == player_id)
            .order_by(GameRow.id)
        )
        return dict(rows.all())

    async def list_backlog(
        self,
        player_id: int,
        statuses: Collection[GameStatus],
        page: int,
        page_size: int,
    ) -> GamePage:
        if page < 1 or page_size < 1:
            raise ValueError(f"page {page} of size {page_size}: both count from 1")
        ranks = sorted(STATUS_RANK[status] for status in statuses)
        if not ranks:
            return GamePage(games=[], number=page, has_next=False)
        rows = await self._session.execute(
            _BACKLOG_PAGE,
            {
                "player_id": player_id,
                **_rank_bounds(ranks),
                "rows": page_size + 1,  # one more tells whether a next page exists
                "skipped": (page - 1) * page_size,
            },
        )
        games = [self._keep(row) for row in rows]
        return GamePage(games=games[:page_size], number=page, has_next=len(games) > page_size)

    async def count_by_status(self, player_id: int) -> dict[GameStatus, int]:
        rows = await self._session.execute(
            select(GameRow.status, func.count())
            .where(GameRow.player_id == player_id)
            .group_by(GameRow.status)
        )
        return {GameStatus(status): count for status, count in rows}

    async def rating_summary(self, player_id: int) -> tuple[int, float | None]:
        rated, average = (
            await self._session.execute(
                select(func.count(GameRow.rating), func.avg(GameRow.rating)).where(
                    GameRow.player_id == player_id
                )
            )
        ).one()
        return rated, None if average is None else float(average)

    async def count_completed_since(self, player_id: int, since: datetime) -> int:
        count = await self._session.scalar(
            select(func.count(GameRow.id)).where(
                GameRow.player_id == player_id, GameRow.completed_at >= since
            )
        )
        return count or 0

    async def list_with_statuses(
        self, player_id: int, statuses: Collection[GameStatus]
    ) -> list[Game]:
        ranks = sorted(STATUS_RANK[status] for status in statuses)
        if not ranks:
            return []
        rows = await self._session.execute(
            _GAMES_WITH_RANKS,
            {"player_id": player_id, **_rank_bounds(ranks)},
        )
        return [self._keep(row) for row in rows]

    async def get_last_played(self, player_id: int) -> Game | None:
        rows = await self._session.execute(_LAST_PLAYED, {"player_id": player_id})
        row = rows.one_or_none()
        return None if row is None else self._keep(row)

    async def move_added_in(self, old: ChatAddress, new: ChatAddress) -> None:
        await self._session.execute(
            update(GameRow)
            .where(
                GameRow.added_in_platform == old.platform,
                GameRow.added_in_chat_id == old.chat_id,
            )
            .values(added_in_platform=new.platform, added_in_chat_id=new.chat_id)
        )

    async def list_for_players(
        self, player_ids: Collection[int], statuses: Collection[GameStatus]
    ) -> list[Game]:
        if not player_ids or not statuses:
            return []
        rows = await self._session.execute(
            select(_GAMES)
            .where(
                _C.player_id.in_(sorted(player_ids)),
                _C.status_rank.in_(sorted(STATUS_RANK[status] for status in statuses)),
            )
            .order_by(_C.player_id, _C.id)
        )
        return [self._keep(row) for row in rows]

    async def list_linked_to_facts(
        self, facts_ids: Collection[int], status: GameStatus
    ) -> list[Game]:
        if not facts_ids:
            return []
        rows = await self._session.execute(
            select(_GAMES)
            .where(
                _C.facts_id.in_(sorted(facts_ids)),
                _C.status_rank == STATUS_RANK[status],
            )
            .order_by(_C.id)
        )
        return [self._keep(row) for row in rows]

    def _keep(self, row: Row[Any]) -> Game:
        game = _to_domain(row)
        self._stored[row.id] = _row_values(game)
        return game

    async def copy_games(self, *, from_player_id: int, to_player_id: int) -> None:
        copied = [c for c in GameRow.__table__.c if c.name not in ("id", "player_id")]
        rows = (
            select(literal(to_player_id), *copied)
            .where(GameRow.player_id == from_player_id)
            .order_by(GameRow.id)
        )
        # One INSERT ... SELECT: the database copies the list, however long it is.
        await self._session.execute(
            insert(GameRow).from_select(["player_id", *(c.name for c in copied)], rows)
        )


def _last_played_at() -> ColumnElement[datetime]:
    """The later of a row's start and completion, whichever are set.

    A CASE rather than GREATEST, which SQLite lacks, and whose NULL handling differs by database.
    A replayed game keeps its first start, so its completion can be the later of the two.
    """
    return case(
        (_C.completed_at > _C.started_at, _C.completed_at),
        else_=func.coalesce(_C.started_at, _C.completed_at),
    )


# On the table, not the ORM class: games are read as plain rows, whose columns save() compares.
_GAMES = table_of(GameRow)
_C = _GAMES.c
# Built once: the statements of the commonest commands (/add, /done, /backlog, /next), whose
# construction costs more than SQLite takes to run them.
_ADD_GAME = insert_built_once(
    lambda insert: (
        insert(_GAMES)
        .on_conflict_do_nothing(index_elements=[_C.player_id, _C.title_folded])
        .returning(_C.id)
    )
)
_UPDATE_GAME = update(_GAMES).where(_C.id == bindparam("game_id"))  # SET: the columns given
_REMOVE_GAME = delete(_GAMES).where(_C.id == bindparam("game_id"))
_GAME_BY_ID = select(_GAMES).where(_C.id == bindparam("game_id"))
_GAMES_BY_TITLES = select(_GAMES).where(
    _C.player_id == bindparam("player_id"),
    _C.title_folded.in_(bindparam("folded_titles", expanding=True)),
)
_IN_RANKS = (
    _C.player_id == bindparam("player_id"),
    # The range bounds the index scan; PostgreSQL applies IN only as a filter.
    _C.status_rank.between(bindparam("lowest_rank"), bindparam("highest_rank")),
    _C.status_rank.in_(bindparam("ranks", expanding=True)),
)
_BACKLOG_PAGE = (
    select(_GAMES)
    .where(*_IN_RANKS)
    .order_by(_C.status_rank, _C.id)
    .limit(bindparam("rows", type_=Integer))
    .offset(bindparam("skipped", type_=Integer))
)
_GAMES_WITH_RANKS = select(_GAMES).where(*_IN_RANKS).order_by(_C.id)
_LAST_PLAYED = (
    select(_GAMES)
    .where(
        _C.player_id == bindparam("player_id"),
        or_(_C.started_at.is_not(None), _C.completed_at.is_not(None)),
    )
    .order_by(_last_played_at().desc(), _C.id.desc())
    .limit(1)
)


def _rank_bounds(ranks: list[int]) -> dict[str, Any]:
    """The parameters of `_IN_RANKS` for these sorted ranks."""
    return {"lowest_rank": ranks[0], "highest_rank": ranks[-1], "ranks": ranks}


def _row_values(game: Game) -> dict[str, Any]:
    """The columns a game writes, by name; shared by insert and update."""
    return {
        "player_id": game.player_id,
        "title": game.title.text,
        "title_folded": game.title.folded,
        "platform": None if game.platform is None else game.platform.value,
        "status": game.status.value,
        "status_rank": STATUS_RANK[game.status],
        "rating": None if game.rating is None else game.rating.value,
        "added_at": game.added_at,
        "started_at": game.started_at,
        "completed_at": game.completed_at,
        "added_in_platform": None if game.added_in is None else game.added_in.platform,
        "added_in_chat_id": None if game.added_in is None else game.added_in.chat_id,
        "lookup_state": game.lookup.value,
        "facts_id": game.facts_id,
    }


def _to_domain(row: Row[Any]) -> Game:
    return Game(
        id=row.id,
        player_id=row.player_id,
        title=Title.from_stored(row.title, row.title_folded),
        added_at=row.added_at,
        platform=None if row.platform is None else Platform(row.platform),
        status=GameStatus(row.status),
        rating=None if row.rating is None else GameRating(row.rating),
        started_at=row.started_at,
        completed_at=row.completed_at,
        added_in=_chat_address(row.added_in_platform, row.added_in_chat_id),
        lookup=LookupState(row.lookup_state),
        facts_id=row.facts_id,
    )


def _chat_address(platform: str | None, chat_id: str | None) -> ChatAddress | None:
    if platform is None or chat_id is None:
        return None
    return ChatAddress(platform=platform, chat_id=chat_id)
