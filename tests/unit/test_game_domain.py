"""The Game entity's rules, with no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from questrya.common.errors import InvalidGameState
from questrya.common.values import GameRating, GameStatus, Title
from questrya.games.domain import Game

MONDAY = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)


def a_game(status: GameStatus = GameStatus.BACKLOG) -> Game:
    return Game(player_id=1, title=Title("Hades"), added_at=MONDAY, status=status)


def test_new_game_is_in_the_backlog() -> None:
    assert a_game().status is GameStatus.BACKLOG


def test_playing_records_when_it_started_once() -> None:
    game = a_game()
    game.start_playing(on=MONDAY)
    game.pause()
    game.start_playing(on=FRIDAY)
    assert game.status is GameStatus.PLAYING
    assert game.started_at == MONDAY


def test_completion_sets_the_date_and_rating() -> None:
    game = a_game(GameStatus.PLAYING)
    game.mark_completed(on=FRIDAY, rating=GameRating(9))
    assert (game.status, game.completed_at, game.rating) == (
        GameStatus.COMPLETED,
        FRIDAY,
        GameRating(9),
    )


def test_an_abandoned_game_cannot_be_completed() -> None:
    game = a_game(GameStatus.ABANDONED)
    with pytest.raises(InvalidGameState, match="Cannot complete an abandoned game: /play Hades"):
        game.mark_completed(on=FRIDAY)
    assert game.status is GameStatus.ABANDONED
    assert game.completed_at is None


def test_playing_an_abandoned_game_again_allows_completing_it() -> None:
    game = a_game(GameStatus.ABANDONED)
    game.start_playing(on=MONDAY)
    game.mark_completed(on=FRIDAY)
    assert game.status is GameStatus.COMPLETED


def test_completing_twice_is_refused_and_points_to_rate() -> None:
    game = a_game()
    game.mark_completed(on=FRIDAY, rating=GameRating(6))
    with pytest.raises(InvalidGameState, match="/rate Hades"):
        game.mark_completed(on=FRIDAY, rating=GameRating(9))
    assert game.rating == GameRating(6)


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (
            GameStatus.BACKLOG,
            "Hades is in your backlog, not being played, so it can't be paused;"
            " start it with /play Hades.",
        ),
        (
            GameStatus.WISHLIST,
            "Hades is on your wishlist, not being played, so it can't be paused;"
            " start it with /play Hades.",
        ),
        (
            GameStatus.COMPLETED,
            "Hades is completed, not being played, so it can't be paused;"
            " start it with /play Hades.",
        ),
        (GameStatus.PAUSED, "Hades is already paused; /play Hades resumes it."),
    ],
)
def test_only_a_game_being_played_can_be_paused(status: GameStatus, refusal: str) -> None:
    with pytest.raises(InvalidGameState) as refused:
        a_game(status).pause()

    assert str(refused.value) == refusal


def test_playing_twice_is_refused() -> None:
    with pytest.raises(InvalidGameState, match="already playing"):
        a_game(GameStatus.PLAYING).start_playing(on=FRIDAY)


@pytest.mark.parametrize("status", [GameStatus.COMPLETED, GameStatus.ABANDONED])
def test_finished_or_dropped_games_cannot_be_dropped(status: GameStatus) -> None:
    with pytest.raises(InvalidGameState):
        a_game(status).abandon()


def test_rating_needs_the_game_to_have_been_played() -> None:
    with pytest.raises(InvalidGameState, match="haven't played"):
        a_game(GameStatus.BACKLOG).rate(GameRating(8))
    game = a_game(GameStatus.PAUSED)
    game.rate(GameRating(8))
    assert game.rating == GameRating(8)


def test_a_wishlisted_game_moves_to_the_backlog_and_only_it() -> None:
    wished = a_game(GameStatus.WISHLIST)
    wished.move_to_backlog()
    assert wished.status is GameStatus.BACKLOG
    with pytest.raises(InvalidGameState) as refused:
        wished.move_to_backlog()
    assert str(refused.value) == "Hades is in your backlog, not on your wishlist."
