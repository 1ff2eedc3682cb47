"""Merging two players' backlogs: every game kept, two copies of one game become one that loses
nothing of either. Pure domain rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questrya.common.values import ChatAddress, GameRating, GameStatus, Platform, Title
from questrya.games.domain import MERGE_ORDER, Game, LookupState, merge_backlogs

KEPT, JOINING = 1, 2
DAY = datetime(2026, 1, 10, tzinfo=UTC)
ORDER = [
    GameStatus.COMPLETED,
    GameStatus.PLAYING,
    GameStatus.PAUSED,
    GameStatus.ABANDONED,
    GameStatus.BACKLOG,
    GameStatus.WISHLIST,
]


def game(player_id: int, title: str, **fields: Any) -> Game:
    fields.setdefault("added_at", DAY)
    return Game(player_id=player_id, title=Title(title), **fields)


def test_the_documented_order_of_statuses() -> None:
    assert sorted(GameStatus, key=MERGE_ORDER.__getitem__, reverse=True) == ORDER


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(ORDER, 2)))
def test_the_further_status_wins_from_either_side(first: GameStatus, second: GameStatus) -> None:
    for kept_status, joining_status in ((first, second), (second, first)):
        kept = game(KEPT, "Hades", status=kept_status)
        merge_backlogs([kept], [game(JOINING, "hades", status=joining_status)], into_player_id=KEPT)
        assert kept.status is first


def test_overlapping_backlogs_keep_every_game_once() -> None:
    kept = [game(KEPT, "Hades", status=GameStatus.BACKLOG), game(KEPT, "Celeste")]
    joining = [game(JOINING, "HADES", status=GameStatus.PLAYING), game(JOINING, "Tunic")]

    merge = merge_backlogs(kept, joining, into_player_id=KEPT)

    assert [g.title.text for g in merge.absorbing] == ["Hades"]
    assert merge.absorbing[0].status is GameStatus.PLAYING
    assert merge.absorbed == [joining[0]]
    assert [(g.title.text, g.player_id) for g in merge.moved] == [("Tunic", KEPT)]


def test_a_merged_game_keeps_the_earliest_dates_and_the_latest_completion() -> None:
    first_added = ChatAddress("discord", "dm-1")
    kept = game(
        KEPT,
        "Hades",
        status=GameStatus.COMPLETED,
        added_at=DAY,
        started_at=DAY + timedelta(days=5),
        completed_at=DAY + timedelta(days=9),
        added_in=ChatAddress("telegram", "42"),
    )
    joining = game(
        JOINING,
        "Hades",
        status=GameStatus.PLAYING,
        added_at=DAY - timedelta(days=30),
        started_at=DAY - timedelta(days=20),
        completed_at=DAY + timedelta(days=40),  # an earlier run, replayed since
        added_in=first_added,
    )

    kept.absorb(joining)

    assert kept.status is GameStatus.COMPLETED
    assert kept.added_at == DAY - timedelta(days=30)
    assert kept.added_in == first_added
    assert kept.started_at == DAY - timedelta(days=20)
    assert kept.completed_at == DAY + timedelta(days=40)


def test_the_rating_goes_with_the_further_status_else_comes_from_the_other_copy() -> None:
    rated_drop = game(JOINING, "Hades", status=GameStatus.ABANDONED, rating=GameRating(4))
    unrated_win = game(KEPT, "Hades", status=GameStatus.COMPLETED)
    unrated_win.absorb(rated_drop)
    assert unrated_win.rating == GameRating(4)

    rated_win = game(KEPT, "Hades", status=GameStatus.COMPLETED, rating=GameRating(9))
    rated_win.absorb(game(JOINING, "Hades", status=GameStatus.PAUSED, rating=GameRating(3)))
    assert rated_win.rating == GameRating(9)

    behind = game(KEPT, "Hades", status=GameStatus.PAUSED, rating=GameRating(3))
    behind.absorb(game(JOINING, "Hades", status=GameStatus.COMPLETED, rating=GameRating(8)))
    assert behind.rating == GameRating(8)


def test_facts_and_platform_come_from_whichever_copy_has_them() -> None:
    kept = game(KEPT, "hades")
    identified = game(
        JOINING,
        "Hades",
        lookup=LookupState.FOUND,
        facts_id=7,
        platform=Platform.SWITCH,
    )

    kept.absorb(identified)

    assert (kept.lookup, kept.facts_id, kept.title.text) == (LookupState.FOUND, 7, "Hades")
    assert kept.platform is Platform.SWITCH


def test_known_facts_are_never_replaced_by_a_pending_copy() -> None:
    kept = game(KEPT, "Hades", lookup=LookupState.FOUND, facts_id=7)
    kept.absorb(game(JOINING, "Hades", status=GameStatus.COMPLETED))
    assert (kept.lookup, kept.facts_id, kept.status) == (
        LookupState.FOUND,
        7,
        GameStatus.COMPLETED,
    )


def test_on_a_tie_the_kept_copy_stays_as_it_is() -> None:
    kept = game(KEPT, "Hades", status=GameStatus.COMPLETED, rating=GameRating(6))
    kept.absorb(game(JOINING, "Hades", status=GameStatus.COMPLETED, rating=GameRating(10)))
    assert kept.rating == GameRating(6)


TITLES = st.sampled_from(["Hades", "Celeste", "Tunic", "Outer Wilds", "Hollow Knight", "Inside"])
STATUSES = st.sampled_from(list(GameStatus))
BACKLOG = st.dictionaries(TITLES, STATUSES, max_size=6)


@given(kept_list=BACKLOG, joining_list=BACKLOG)
def test_a_merge_loses_no_game_and_no_progress(
    kept_list: dict[str, GameStatus], joining_list: dict[str, GameStatus]
) -> None:
    kept = [game(KEPT, title, status=status) for title, status in kept_list.items()]
    joining = [game(JOINING, title.upper(), status=s) for title, s in joining_list.items()]

    merge = merge_backlogs(kept, joining, into_player_id=KEPT)

    result = {g.title.folded: g for g in [*kept, *merge.moved]}
    assert set(result) == {Title(t).folded for t in [*kept_list, *joining_list]}
    assert all(g.player_id == KEPT for g in result.values())
    for title in {*kept_list, *joining_list}:
        wanted = [s for s in (kept_list.get(title), joining_list.get(title)) if s is not None]
        assert result[Title(title).folded].status is max(wanted, key=MERGE_ORDER.__getitem__)
