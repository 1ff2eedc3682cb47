"""Choosing among a provider's search results: one match, a choice, or none."""

from __future__ import annotations

from datetime import date

from questrya.metadata.domain import GameFacts, describe, labelled
from questrya.metadata.matching import Verdict, decide
from tests.fake_provider import DOOM_1993, DOOM_2016, HADES, HADES_II


def test_an_exact_title_wins_over_its_sequel() -> None:
    decision = decide("hades", [HADES_II, HADES])
    assert (decision.verdict, decision.found) == (Verdict.FOUND, HADES)


def test_a_year_in_a_catalog_title_still_matches_the_bare_title() -> None:
    remake = GameFacts("fake", "doom-2016", "Doom (2016)")
    decision = decide("doom", [DOOM_1993, remake])
    assert (decision.verdict, decision.candidates) == (Verdict.AMBIGUOUS, (DOOM_1993, remake))


def test_an_alias_is_an_exact_match() -> None:
    botw = GameFacts("fake", "botw", "The Legend of Zelda: Breath of the Wild", aliases=("BotW",))
    assert decide("botw", [botw]).found == botw


def test_two_games_with_the_same_title_are_offered() -> None:
    decision = decide("Doom", [DOOM_1993, DOOM_2016])
    assert (decision.verdict, decision.candidates) == (Verdict.AMBIGUOUS, (DOOM_1993, DOOM_2016))


def test_a_single_close_match_is_taken() -> None:
    assert decide("Hadess", [HADES]).found == HADES


def test_nothing_close_is_none() -> None:
    assert decide("Factorio", [HADES, DOOM_1993]).verdict is Verdict.NONE


def test_describe_gives_the_one_line_summary() -> None:
    assert (
        describe(HADES) == "Hades (2020) · PC, Nintendo Switch · Roguelike · Metacritic 93 · ~22 h"
    )


def test_describe_leaves_out_what_is_unknown() -> None:
    assert describe(GameFacts("fake", "x", "Mystery Game")) == "Mystery Game"


def test_labelled_tells_candidates_apart() -> None:
    doom = GameFacts("fake", "d", "Doom", release_date=date(2016, 5, 13), platforms=("PC",))
    assert labelled(doom) == "Doom (2016) · PC"
