"""Title lookup: exact first, then an unambiguous fuzzy match, else choices."""

from __future__ import annotations

from questrya.common.matching import match_title
from questrya.common.text import fold

TITLES = {
    1: "Hades",
    2: "Hades II",
    3: "Hollow Knight",
    4: "The Legend of Zelda: Breath of the Wild",
    5: "The Legend of Zelda: Tears of the Kingdom",
    6: "Celeste",
}


def test_a_typo_matches_the_one_close_title() -> None:
    assert match_title(fold("hollow night"), TITLES).key == 3
    assert match_title(fold("Celest"), TITLES).key == 6


def test_all_words_of_a_single_title_match_it() -> None:
    assert match_title(fold("breath of the wild"), TITLES).key == 4


def test_words_shared_by_two_titles_offer_both() -> None:
    match = match_title(fold("zelda"), TITLES)
    assert match.key is None
    assert match.close == (4, 5)


def test_a_vague_query_is_not_guessed_but_suggests_titles() -> None:
    match = match_title(fold("hades 2"), {1: "Hades", 2: "Hades II", 6: "Celeste"})
    assert match.key is None
    assert match.similar == (1, 2)


def test_one_or_two_letters_are_no_evidence() -> None:
    assert match_title(fold("ha"), TITLES).key is None


def test_nothing_alike_gives_no_match_and_no_suggestions() -> None:
    match = match_title(fold("Factorio"), TITLES)
    assert (match.key, match.close, match.similar) == (None, (), ())
