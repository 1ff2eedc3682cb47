"""The Game entity: one title in one player's list, and the rules of moving it along.

Pure Python: it knows nothing of storage, chat platforms or queues.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from questrya.common.errors import InvalidGameState
from questrya.common.values import ChatAddress, GameRating, GameStatus, Platform, Title


class LookupState(enum.StrEnum):
    """How far the games-database lookup of a game has come."""

    PENDING = "pending"  # queued; a worker will look it up
    FOUND = "found"  # linked to one game's facts
    AMBIGUOUS = "ambiguous"  # several close matches; the player was asked to choose
    NOT_FOUND = "not_found"  # no match; kept as the player wrote it


@dataclass(eq=False)
class Game:
    """A game in a player's list; identity is `id` once stored."""

    player_id: int
    title: Title
    added_at: datetime
    platform: Platform | None = None
    status: GameStatus = GameStatus.BACKLOG
    rating: GameRating | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    added_in: ChatAddress | None = None
    lookup: LookupState = LookupState.PENDING
    facts_id: int | None = None
    id: int | None = None

    def identify(self, *, facts_id: int, canonical_title: Title | None = None) -> None:
        """Link the game to its facts; take the database's spelling of the title if given."""
        self.facts_id = facts_id
        self.lookup = LookupState.FOUND
        self.title = canonical_title or self.title

    def leave_unidentified(self, *, ambiguous: bool) -> None:
        """Record that the lookup found several candidates, or none."""
        self.lookup = LookupState.AMBIGUOUS if ambiguous else LookupState.NOT_FOUND

    def move_to_backlog(self) -> None:
        """A wishlisted game the player now has: it waits in the backlog."""
        if self.status is not GameStatus.WISHLIST:
            raise InvalidGameState(f"{self.title} is {self.status.as_state}, not on your wishlist.")
        self.status = GameStatus.BACKLOG

    def start_playing(self, *, on: datetime) -> None:
        """Start (or resume, or replay) the game; the way back from `abandoned`."""
        if self.status is GameStatus.PLAYING:
            raise InvalidGameState(f"You are already playing {self.title}.")
        self.status = GameStatus.PLAYING
        self.started_at = self.started_at or on

    def pause(self) -> None:
        """Put a game being played on hold."""
        if self.status is GameStatus.PAUSED:
            raise InvalidGameState(
                f"{self.title} is already paused; /play {self.title} resumes it."
            )
        if self.status is not GameStatus.PLAYING:
            raise InvalidGameState(
                f"{self.title} is {self.status.as_state}, not being played, so it can't be"
                f" paused; start it with /play {self.title}."
            )
        self.status = GameStatus.PAUSED

    def mark_completed(self, *, on: datetime, rating: GameRating | None = None) -> None:
        """Finish the game, optionally with a rating; the completion date is `on`."""
        if self.status is GameStatus.ABANDONED:
            raise InvalidGameState(
                f"Cannot complete an abandoned game: /play {self.title} again first."
            )
        if self.status is GameStatus.COMPLETED:
            raise InvalidGameState(
                f"{self.title} is already completed; change its rating with /rate {self.title} 8."
            )
        self.status = GameStatus.COMPLETED
        self.completed_at = on
        self.rating = rating or self.rating

    def abandon(self) -> None:
        """Drop the game; it can be picked up again with `start_playing`."""
        if self.status in (GameStatus.ABANDONED, GameStatus.COMPLETED):
            raise InvalidGameState(
                f"{self.title} is {self.status.value}; there is nothing to drop."
            )
        self.status = GameStatus.ABANDONED

    def rate(self, rating: GameRating) -> None:
        """Rate a game the player has played at least a little."""
        if self.status in (GameStatus.BACKLOG, GameStatus.WISHLIST):
            raise InvalidGameState(
                f"You haven't played {self.title} yet; "
                f"rate it when you finish: /done {self.title} 8."
            )
        self.rating = rating

    def absorb(self, other: Game) -> None:
        """Take in another copy of this game (from a linked account), losing nothing of either:
        the further status (see MERGE_ORDER) with its rating, else the other's rating; the
        earliest added and started dates, the latest completion; facts and platform wherever
        only one copy has them. On a tie the status stays this copy's."""
        further = other if MERGE_ORDER[other.status] > MERGE_ORDER[self.status] else self
        self.status = further.status
        self.rating = further.rating or self.rating or other.rating
        self.platform = further.platform or self.platform or other.platform
        self.started_at = _earliest(self.started_at, other.started_at)
        self.completed_at = _latest(self.completed_at, other.completed_at)
        if other.added_at < self.added_at:
            self.added_at, self.added_in = other.added_at, other.added_in or self.added_in
        if self.lookup is not LookupState.FOUND and other.lookup is LookupState.FOUND:
            self.title, self.facts_id, self.lookup = other.title, other.facts_id, other.lookup


# How far along a game is, for merging two copies of it: the higher one is kept. Completed is
# the end; playing beats paused (both started, one is live); a game started then dropped has
# gone further than one never started; a backlog game is owned, a wishlisted one only wanted.
MERGE_ORDER = {
    GameStatus.WISHLIST: 0,
    GameStatus.BACKLOG: 1,
    GameStatus.ABANDONED: 2,
    GameStatus.PAUSED: 3,
    GameStatus.PLAYING: 4,
    GameStatus.COMPLETED: 5,
}


@dataclass(frozen=True)
class BacklogMerge:
    """What merging a joining player's games into a kept player's list does to each game."""

    absorbing: list[Game]  # kept games that took in the joining player's copy
    absorbed: list[Game]  # the joining player's copies, folded into a kept game
    moved: list[Game]  # the joining player's other games, now the kept player's


def merge_backlogs(kept: list[Game], joining: list[Game], *, into_player_id: int) -> BacklogMerge:
    """Every game of both lists in one; the same title (folded) twice becomes one game."""
    by_title = {game.title.folded: game for game in kept}
    absorbing, absorbed, moved = [], [], []
    for game in joining:
        twin = by_title.get(game.title.folded)
        if twin is None:
            game.player_id = into_player_id
            moved.append(game)
            continue
        twin.absorb(game)
        absorbing.append(twin)
        absorbed.append(game)
    return BacklogMerge(absorbing=absorbing, absorbed=absorbed, moved=moved)


def _earliest(first: datetime | None, second: datetime | None) -> datetime | None:
    return min((d for d in (first, second) if d is not None), default=None)


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    return max((d for d in (first, second) if d is not None), default=None)


@dataclass(frozen=True)
class GamePage:
    """One page of a player's list, in stable order; `number` counts from 1."""

    games: list[Game]
    number: int
    has_next: bool


@dataclass(frozen=True)
class GameStats:
    """Counts per status and the ratings of one player's games."""

    by_status: dict[GameStatus, int]
    rated_count: int
    average_rating: float | None
    completed_this_year: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())
