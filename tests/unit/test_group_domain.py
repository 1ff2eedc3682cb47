"""Group rules: admins switch the feed, members choose to share, the console's founder rule;
what to play together tonight, the vote on it, and what the feed says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from questrya.common.errors import InvalidVote, NotGroupAdmin
from questrya.common.values import ChatAddress, GameRating, Title
from questrya.groups.domain import (
    MAX_POLL_OPTIONS,
    Group,
    GroupPoll,
    Holding,
    TonightPick,
    completion_post,
    pick_for_tonight,
    recommendation_post,
)

FRIENDS = ChatAddress("console", "group:friends")
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
ALICE, BOB = 1, 2


def friends() -> Group:
    group = Group(FRIENDS)
    group.meet(ALICE, on=MONDAY)
    group.meet(BOB, on=MONDAY + timedelta(minutes=5))
    return group


def test_sharing_is_off_until_the_member_turns_it_on() -> None:
    group = friends()
    assert not group.shares_of(BOB)
    group.set_sharing(BOB, shares=True, on=MONDAY)
    assert group.shares_of(BOB)


def test_a_platform_admin_switches_the_feed() -> None:
    group = friends()
    group.switch_feed(by=BOB, enabled=True, is_admin=True)
    assert group.feed_enabled


def test_a_non_admin_cannot_switch_the_feed() -> None:
    group = friends()
    group.switch_feed(by=ALICE, enabled=True, is_admin=True)
    with pytest.raises(NotGroupAdmin, match="Only the group's admins"):
        group.switch_feed(by=BOB, enabled=False, is_admin=False)
    assert group.feed_enabled


def test_without_platform_admins_the_first_member_is_admin() -> None:
    group = friends()
    with pytest.raises(NotGroupAdmin):
        group.switch_feed(by=BOB, enabled=True, is_admin=None)
    group.switch_feed(by=ALICE, enabled=True, is_admin=None)
    assert group.founder_id == ALICE
    assert group.feed_enabled


def test_meeting_twice_keeps_the_first_membership() -> None:
    group = friends()
    group.set_sharing(ALICE, shares=True, on=MONDAY)
    group.meet(ALICE, on=MONDAY + timedelta(days=1))
    assert group.members[ALICE].joined_at == MONDAY
    assert group.shares_of(ALICE)


# -- what to play together tonight ----------------------------------------------------------

CAROL, DAN = 3, 4


def holding(player_id: int, title: str, critic_score: int | None = None) -> Holding:
    return Holding(player_id, title, Title(title).folded, critic_score)


def ranked(picks: list[TonightPick]) -> list[tuple[str, tuple[int, ...], int | None]]:
    return [(pick.title, pick.player_ids, pick.critic_score) for pick in picks]


def test_tonight_puts_the_game_most_members_have_first() -> None:
    picks = pick_for_tonight(
        [
            holding(ALICE, "Celeste", 92),
            holding(BOB, "Celeste", 92),
            holding(ALICE, "Hades", 80),
            holding(BOB, "Hades", 80),
            holding(CAROL, "Hades", 80),
        ]
    )
    assert ranked(picks) == [
        ("Hades", (ALICE, BOB, CAROL), 80),
        ("Celeste", (ALICE, BOB), 92),
    ]


def test_tonight_breaks_a_tie_by_critic_score_then_by_title() -> None:
    picks = pick_for_tonight(
        [
            *[holding(player, "Tunic", 85) for player in (ALICE, BOB)],
            *[holding(player, "Hades", 93) for player in (ALICE, BOB)],
            *[holding(player, "Celeste", 85) for player in (ALICE, BOB)],
            *[holding(player, "Abzu") for player in (ALICE, BOB)],
        ]
    )
    assert [pick.title for pick in picks] == ["Hades", "Celeste", "Tunic", "Abzu"]


def test_a_game_only_one_member_has_is_left_out() -> None:
    picks = pick_for_tonight(
        [
            holding(ALICE, "Hades"),
            holding(BOB, "Hades"),
            holding(ALICE, "Outer Wilds", 95),
            holding(ALICE, "Celeste"),
        ]
    )
    assert [pick.title for pick in picks] == ["Hades"]


def test_nothing_is_picked_when_no_two_members_share_a_game() -> None:
    assert pick_for_tonight([holding(ALICE, "Hades"), holding(BOB, "Celeste")]) == []


def test_titles_written_differently_are_the_same_game() -> None:
    picks = pick_for_tonight(
        [holding(ALICE, "Pokémon: Red"), holding(BOB, "POKEMON red"), holding(CAROL, "pokemon!")]
    )
    assert ranked(picks) == [("Pokémon: Red", (ALICE, BOB), None)]


def test_a_pick_keeps_the_score_known_to_any_of_its_holders() -> None:
    picks = pick_for_tonight([holding(ALICE, "Hades"), holding(BOB, "hades", 93)])
    assert ranked(picks) == [("Hades", (ALICE, BOB), 93)]


def test_tonight_offers_at_most_ten_games_the_best_ones() -> None:
    holdings = [
        holding(player, f"Game {number:02}", 50 + number)
        for number in range(1, 13)
        for player in (ALICE, BOB)
    ]
    picks = pick_for_tonight(holdings)
    assert len(picks) == MAX_POLL_OPTIONS == 10
    assert [pick.title for pick in picks] == [f"Game {n:02}" for n in range(12, 2, -1)]


# -- the vote -------------------------------------------------------------------------------


def a_poll() -> GroupPoll:
    return GroupPoll(
        address=FRIENDS,
        question="What shall we play tonight?",
        options=("Hades", "Celeste", "Tunic"),
        created_by=ALICE,
        created_at=MONDAY,
    )


def test_the_tally_counts_each_members_vote_in_the_polls_order() -> None:
    poll = a_poll()
    poll.vote(ALICE, 2)
    poll.vote(BOB, 2)
    poll.vote(CAROL, 3)
    assert poll.tally() == [("Hades", 0), ("Celeste", 2), ("Tunic", 1)]


def test_voting_again_replaces_the_members_vote() -> None:
    poll = a_poll()
    poll.vote(BOB, 1)
    poll.vote(BOB, 3)
    assert poll.votes == {BOB: 2}
    assert poll.tally() == [("Hades", 0), ("Celeste", 0), ("Tunic", 1)]


@pytest.mark.parametrize("number", [0, 4, -1])
def test_a_vote_for_an_option_the_poll_lacks_is_refused(number: int) -> None:
    poll = a_poll()
    poll.vote(BOB, 1)
    with pytest.raises(InvalidVote, match=r"Vote with a number from 1 to 3\."):
        poll.vote(BOB, number)
    assert poll.votes == {BOB: 0}


# -- what the feed says ---------------------------------------------------------------------

CELESTE_FACTS = "Celeste (2018) · PC, Nintendo Switch · Metacritic 92 · ~8 h"


@pytest.mark.parametrize("rating", [7, 10])
def test_a_completion_rated_seven_or_more_is_a_recommendation(rating: int) -> None:
    post = completion_post("Bob", "Celeste", GameRating(rating), CELESTE_FACTS)
    assert post == f"⭐ Bob recommends Celeste · {rating}/10\n{CELESTE_FACTS}"


def test_a_completion_rated_below_seven_is_a_plain_completion() -> None:
    post = completion_post("Bob", "Celeste", GameRating(6), CELESTE_FACTS)
    assert post == "🏁 Bob completed Celeste · 6/10."


def test_an_unrated_completion_is_a_plain_completion() -> None:
    assert completion_post("Bob", "Celeste", None, CELESTE_FACTS) == "🏁 Bob completed Celeste."


def test_a_recommendation_without_facts_or_rating_is_one_line() -> None:
    assert recommendation_post("Bob", "Celeste", None, None) == "⭐ Bob recommends Celeste"
