"""/next: ranking a player's own backlog by critic score, fit to the hours given, time waited
and the platform at hand, with a reason for each pick; bad hours refused before any query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bots.chat import Speaker, build_router
from questrya.common.clock import Clock
from questrya.common.errors import InvalidHours
from questrya.common.values import Platform
from questrya.games import service as game_service
from questrya.metadata.domain import GameFacts
from questrya.recommendations import service as recommendation_service
from questrya.recommendations.domain import Candidate, Pick, parse_hours, played_platform, rank
from tests.fakes import FakeUnitOfWork, identify_game

NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
ALICE = 1


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def candidate(
    title: str,
    *,
    added_at: datetime | None = None,
    platform: Platform | None = None,
    critic_score: int | None = None,
    hours_to_beat: float | None = None,
    facts_platforms: tuple[str, ...] = (),
) -> Candidate:
    """A backlog game added ten days ago unless said otherwise, knowing only what is given."""
    return Candidate(
        title,
        added_at=added_at or days_ago(10),
        platform=platform,
        critic_score=critic_score,
        hours_to_beat=hours_to_beat,
        facts_platforms=facts_platforms,
    )


def ranked(
    *candidates: Candidate, hours: int | None = None, recent: Platform | None = None
) -> list[Pick]:
    return rank(candidates, hours=hours, now=NOW, recent_platform=recent)


def titles(picks: list[Pick]) -> list[str]:
    return [pick.title for pick in picks]


def reasons(picks: list[Pick]) -> dict[str, tuple[str, ...]]:
    return {pick.title: pick.reasons for pick in picks}


# -- the signals ----------------------------------------------------------------------------


def test_a_better_critic_score_ranks_higher_and_is_given_as_the_reason() -> None:
    picks = ranked(candidate("Forgettable", critic_score=60), candidate("Hades", critic_score=93))
    assert titles(picks) == ["Hades", "Forgettable"]
    assert reasons(picks) == {"Hades": ("Metacritic 93",), "Forgettable": ("waiting 10 days",)}


def test_an_unknown_score_ranks_between_a_good_and_a_poor_one() -> None:
    picks = ranked(
        candidate("Poor", critic_score=45),
        candidate("Unknown"),
        candidate("Good", critic_score=80),
    )
    assert titles(picks) == ["Good", "Unknown", "Poor"]


def test_a_game_that_fits_the_hours_beats_a_better_game_that_does_not() -> None:
    picks = ranked(
        candidate("Elden Ring", critic_score=95, hours_to_beat=60),
        candidate("Celeste", hours_to_beat=8.4),
        hours=10,
    )
    assert titles(picks) == ["Celeste", "Elden Ring"]
    assert reasons(picks) == {
        "Celeste": ("fits your 10 h (~8 h)",),
        "Elden Ring": ("Metacritic 95", "longer than your 10 h (~60 h)"),
    }


def test_with_hours_given_a_game_known_to_fit_beats_a_better_one_of_unknown_length() -> None:
    picks = ranked(
        candidate("Acclaimed", critic_score=85), candidate("Fits", hours_to_beat=6), hours=8
    )
    assert titles(picks) == ["Fits", "Acclaimed"]


def test_a_game_as_long_as_the_time_given_fits_it() -> None:
    [pick] = ranked(candidate("Tunic", hours_to_beat=9.6), hours=10)
    assert pick.reasons == ("fits your 10 h (~10 h)",)


def test_a_game_a_little_too_long_loses_less_than_one_far_too_long() -> None:
    picks = ranked(
        candidate("Far too long", hours_to_beat=100),
        candidate("A little long", hours_to_beat=12),
        hours=10,
    )
    assert titles(picks) == ["A little long", "Far too long"]
    assert picks[0].score > picks[1].score


def test_without_hours_a_short_game_gets_a_small_nudge() -> None:
    picks = ranked(candidate("Long", hours_to_beat=40), candidate("Short", hours_to_beat=5))
    assert titles(picks) == ["Short", "Long"]
    assert reasons(picks) == {"Short": ("~5 h",), "Long": ("waiting 10 days",)}


def test_without_hours_shortness_never_beats_a_much_better_game() -> None:
    picks = ranked(
        candidate("Short", hours_to_beat=2), candidate("Great", critic_score=90, hours_to_beat=50)
    )
    assert titles(picks) == ["Great", "Short"]


def test_the_game_that_has_waited_longest_comes_first() -> None:
    picks = ranked(
        candidate("New", added_at=days_ago(2)),
        candidate("Old", added_at=days_ago(400)),
        candidate("Middle", added_at=days_ago(45)),
    )
    assert titles(picks) == ["Old", "Middle", "New"]
    assert reasons(picks) == {
        "Old": ("waiting 1 year",),
        "Middle": ("waiting 45 days",),
        "New": ("waiting 2 days",),
    }


def test_a_long_wait_beats_a_slightly_better_score() -> None:
    picks = ranked(
        candidate("Fresh and good", added_at=days_ago(2), critic_score=75),
        candidate("Waiting", added_at=days_ago(400)),
    )
    assert titles(picks) == ["Waiting", "Fresh and good"]


def test_a_game_added_today_says_so() -> None:
    [pick] = ranked(candidate("Hades", added_at=NOW))
    assert pick.reasons == ("added today",)


def test_a_ten_year_wait_counts_less_than_a_top_critic_score() -> None:
    picks = ranked(
        candidate("Forgotten", added_at=days_ago(3650)),
        candidate("Acclaimed", added_at=NOW, critic_score=95),
    )
    assert titles(picks) == ["Acclaimed", "Forgotten"]


def test_the_platform_played_most_recently_gets_a_bonus() -> None:
    picks = ranked(
        candidate("On PC", platform=Platform.PC),
        candidate("On Switch", platform=Platform.SWITCH),
        recent=Platform.SWITCH,
    )
    assert titles(picks) == ["On Switch", "On PC"]
    assert reasons(picks)["On Switch"] == ("on your Nintendo Switch",)


def test_where_the_player_owns_it_counts_before_where_it_was_released() -> None:
    everywhere = ("PC", "Nintendo Switch")
    picks = ranked(
        candidate("Owned on PC", platform=Platform.PC, facts_platforms=everywhere),
        candidate("Owned somewhere", facts_platforms=everywhere),
        recent=Platform.SWITCH,
    )
    assert titles(picks) == ["Owned somewhere", "Owned on PC"]
    assert reasons(picks)["Owned on PC"] == ("waiting 10 days",)


def test_reasons_come_in_order_critic_length_wait_platform() -> None:
    [pick] = ranked(
        candidate(
            "Hades",
            added_at=days_ago(60),
            platform=Platform.SWITCH,
            critic_score=93,
            hours_to_beat=22,
        ),
        hours=30,
        recent=Platform.SWITCH,
    )
    assert pick.reasons == (
        "Metacritic 93",
        "fits your 30 h (~22 h)",
        "waiting 60 days",
        "on your Nintendo Switch",
    )


def test_equal_games_go_to_the_one_added_first_then_by_title() -> None:
    picks = ranked(
        candidate("beta", added_at=days_ago(5)),
        candidate("Alpha", added_at=days_ago(5)),
        candidate("Gamma", added_at=days_ago(5) - timedelta(seconds=1)),
    )
    assert titles(picks) == ["Gamma", "Alpha", "beta"]


def test_a_game_on_one_platform_only_was_played_there() -> None:
    assert played_platform(None, ["Nintendo Switch"]) is Platform.SWITCH
    assert played_platform(None, ["PC", "Nintendo Switch"]) is None
    assert played_platform(Platform.PC, ["Nintendo Switch"]) is Platform.PC


# -- the hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "hours"),
    [("10", 10), ("10h", 10), (" 12 Hours ", 12), ("1 hr", 1), ("500", 500), (8, 8), ("", None)],
)
def test_hours_are_read_as_a_player_writes_them(typed: int | str, hours: int | None) -> None:
    assert parse_hours(typed) == hours


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Hours are from 1 to 500, not 0."),
        ("501", "Hours are from 1 to 500, not 501."),
        ("-5", "Hours are from 1 to 500, not -5."),
        ("abc", 'Hours are a whole number from 1 to 500, not "abc".'),
        ("2.5", 'Hours are a whole number from 1 to 500, not "2.5".'),
        pytest.param("9" * 5000, "Hours are from 1 to 500, not 99999999999….", id="5000 digits"),
        (0, "Hours are from 1 to 500, not 0."),
        pytest.param(
            10**5000, "Hours are from 1 to 500, not a number that long.", id="a 5001-digit int"
        ),
        (True, "Hours are a whole number from 1 to 500."),
    ],
)
def test_bad_hours_are_refused_in_one_line(typed: int | str, message: str) -> None:
    with pytest.raises(InvalidHours) as refusal:
        parse_hours(typed)
    assert refusal.value.message == message


# -- the service, on the player's own list --------------------------------------------------


class CountingUnitOfWork(FakeUnitOfWork):
    """Counts the units begun: each is a round trip to the database in the real one."""

    def __init__(self) -> None:
        super().__init__()
        self.begun = 0

    async def _begin(self) -> None:
        self.begun += 1
        await super()._begin()


@pytest.fixture
def uow() -> CountingUnitOfWork:
    return CountingUnitOfWork()


def at(moment: datetime) -> Clock:
    return lambda: moment


async def add(
    uow: FakeUnitOfWork,
    title: str,
    *,
    added_at: datetime = NOW,
    platform: str | None = None,
    facts: GameFacts | None = None,
    player_id: int = ALICE,
) -> int:
    game = await game_service.add_to_backlog(
        uow=uow, player_id=player_id, title=title, platform=platform, clock=at(added_at)
    )
    if facts is not None:
        facts_id = len(uow.committed_facts) + 1
        uow.committed_facts[facts_id] = facts
        await identify_game(uow, game_id=game.id, facts_id=facts_id, canonical_title=facts.title)
    return game.id


def facts(
    title: str,
    *,
    critic_score: int | None = None,
    hours_to_beat: float | None = None,
    platforms: tuple[str, ...] = (),
) -> GameFacts:
    return GameFacts(
        "offline",
        title.casefold(),
        title,
        platforms=platforms,
        critic_score=critic_score,
        hours_to_beat=hours_to_beat,
    )


async def suggest(uow: FakeUnitOfWork, hours: int | str | None = None) -> list[str]:
    result = await recommendation_service.suggest_next(
        uow=uow, player_id=ALICE, hours=hours, clock=at(NOW)
    )
    return [f"{pick.title}: {' · '.join(pick.reasons)}" for pick in result.picks]


async def test_next_ranks_the_backlog_by_the_games_facts(uow: CountingUnitOfWork) -> None:
    await add(uow, "Elden Ring", facts=facts("Elden Ring", critic_score=96, hours_to_beat=58))
    await add(uow, "Celeste", facts=facts("Celeste", critic_score=92, hours_to_beat=8))
    await add(uow, "Homebrew")
    assert await suggest(uow, "10") == [
        "Celeste: Metacritic 92 · fits your 10 h (~8 h)",
        "Homebrew: added today",
        "Elden Ring: Metacritic 96 · longer than your 10 h (~58 h)",
    ]


async def test_next_ranks_paused_and_backlog_games_only(uow: CountingUnitOfWork) -> None:
    for title in ("Backlog", "Paused", "Playing", "Completed", "Dropped"):
        await add(uow, title)
    await game_service.add_to_backlog(uow=uow, player_id=ALICE, title="Wishlisted", wishlist=True)
    for title in ("Paused", "Playing", "Completed"):
        await game_service.start_playing(uow=uow, player_id=ALICE, title=title)
    await game_service.pause(uow=uow, player_id=ALICE, title="Paused")
    await game_service.mark_completed(uow=uow, player_id=ALICE, title="Completed")
    await game_service.abandon(uow=uow, player_id=ALICE, title="Dropped")

    picked = [line.split(":")[0] for line in await suggest(uow)]
    assert sorted(picked) == ["Backlog", "Paused"]


async def test_next_shows_the_best_three(uow: CountingUnitOfWork) -> None:
    for score in (60, 90, 70, 95, 80):
        await add(uow, f"Scored {score}", facts=facts(f"Scored {score}", critic_score=score))
    picked = [line.split(":")[0] for line in await suggest(uow)]
    assert picked == ["Scored 95", "Scored 90", "Scored 80"]


async def test_next_favours_the_platform_of_the_game_played_last(
    uow: CountingUnitOfWork,
) -> None:
    await add(uow, "Mario Odyssey", added_at=NOW - timedelta(days=3), platform="switch")
    await game_service.start_playing(
        uow=uow, player_id=ALICE, title="Mario Odyssey", clock=at(NOW - timedelta(days=1))
    )
    await add(uow, "Hades on PC", platform="pc")
    await add(uow, "Hades on Switch", platform="switch")
    assert await suggest(uow) == [
        "Hades on Switch: on your Nintendo Switch",
        "Hades on PC: added today",
    ]


async def test_a_game_played_last_without_a_platform_names_one_by_its_facts(
    uow: CountingUnitOfWork,
) -> None:
    await add(uow, "Zelda", facts=facts("Zelda", platforms=("Nintendo Switch",)))
    await game_service.start_playing(uow=uow, player_id=ALICE, title="Zelda")
    await add(uow, "Hades on PC", platform="pc")
    await add(uow, "Hades on Switch", platform="switch")
    assert (await suggest(uow))[0] == "Hades on Switch: on your Nintendo Switch"


@pytest.mark.parametrize(
    "hours", ["0", "501", "abc", pytest.param("9" * 5000, id="5000 digits"), 0, 501]
)
async def test_bad_hours_are_refused_before_any_query(
    uow: CountingUnitOfWork, hours: int | str
) -> None:
    await add(uow, "Hades")
    begun = uow.begun
    with pytest.raises(InvalidHours):
        await suggest(uow, hours)
    assert uow.begun == begun


async def test_next_with_an_empty_backlog_picks_nothing(uow: CountingUnitOfWork) -> None:
    await game_service.add_to_backlog(uow=uow, player_id=ALICE, title="Hades II", wishlist=True)
    result = await recommendation_service.suggest_next(uow=uow, player_id=ALICE, hours="10")
    assert (result.hours, result.picks) == (10, [])


async def test_another_players_backlog_is_never_suggested(uow: CountingUnitOfWork) -> None:
    await add(uow, "Bob's game", player_id=2)
    assert await suggest(uow) == []


# -- /next through the router ---------------------------------------------------------------

ALICE_SPEAKS = Speaker("console", "alice", "Alice", "user:alice")


async def say(uow: FakeUnitOfWork, text: str) -> str:
    return (await build_router(lambda: uow).handle_text(ALICE_SPEAKS, text)).text


async def test_next_is_one_unit_with_the_player_lookup(uow: CountingUnitOfWork) -> None:
    await say(uow, "/add Celeste")
    await say(uow, "/add Hades")
    begun = uow.begun

    reply = await say(uow, "/next")

    assert "Celeste" in reply
    assert uow.begun == begun + 1  # the account, the games, the last played and their facts


async def test_next_answers_one_numbered_line_per_pick(uow: CountingUnitOfWork) -> None:
    await say(uow, "/add Celeste")
    await say(uow, "/add Hades")
    celeste_id = next(g.id for g in uow.committed_games.values() if g.title.text == "Celeste")
    assert celeste_id is not None
    uow.committed_facts[1] = facts("Celeste", critic_score=92, hours_to_beat=8)
    await identify_game(uow, game_id=celeste_id, facts_id=1, canonical_title="Celeste")
    reply = await say(uow, "/next 10h")
    assert reply.splitlines()[:2] == [
        "Play next:",
        "1. Celeste — Metacritic 92 · fits your 10 h (~8 h)",
    ]
    assert reply.splitlines()[2].startswith("2. Hades — ")


@pytest.mark.parametrize(
    ("typed", "reply"),
    [
        ("/next 0", "Hours are from 1 to 500, not 0. Write it like /next 10"),
        ("/next abc", 'Hours are a whole number from 1 to 500, not "abc". Write it like /next 10'),
        pytest.param(
            "/next " + "9" * 5000,
            "Hours are from 1 to 500, not 99999999999…. Write it like /next 10",
            id="5000 digits",
        ),
    ],
)
async def test_next_with_bad_hours_answers_one_line(
    uow: CountingUnitOfWork, typed: str, reply: str
) -> None:
    await say(uow, "/add Hades")
    assert await say(uow, typed) == reply


async def test_next_with_an_empty_backlog_says_how_to_start_one(uow: CountingUnitOfWork) -> None:
    assert await say(uow, "/next") == (
        "Your backlog is empty: add a game with /add Hades, then ask /next again."
    )
