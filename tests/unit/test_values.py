"""Value objects: valid by construction, with messages that say how to write them."""

from __future__ import annotations

import pytest

from questrya.common.errors import InvalidRating, InvalidTitle, UnknownPlatform, UnknownStatus
from questrya.common.values import GameRating, GameStatus, Platform, Title


@pytest.mark.parametrize("value", [1, 5, 10])
def test_rating_accepts_one_to_ten(value: int) -> None:
    assert GameRating(value).value == value


@pytest.mark.parametrize("value", [0, 11, -3, 100])
def test_rating_refuses_out_of_range(value: int) -> None:
    with pytest.raises(InvalidRating, match="from 1 to 10"):
        GameRating(value)


@pytest.mark.parametrize("text", ["abc", "9.5", "", "nine", "1e1", "²", "9²"])
def test_rating_parse_refuses_non_numbers(text: str) -> None:
    with pytest.raises(InvalidRating, match="whole number"):
        GameRating.parse(text)


def test_rating_parse_reads_out_of_ten() -> None:
    assert GameRating.parse(" 9/10 ") == GameRating(9)


def test_rating_parse_reads_any_decimal_digits() -> None:
    assert GameRating.parse("٩") == GameRating(9)  # Arabic-Indic nine


@pytest.mark.parametrize(
    ("text", "shown"), [("9" * 5_000, "99999999999…"), ("-" + "1" * 5_000, "-1111111111…")]
)
def test_rating_parse_refuses_a_number_too_long_to_read(text: str, shown: str) -> None:
    with pytest.raises(InvalidRating) as refusal:
        GameRating.parse(text)

    assert str(refusal.value) == f"A rating is from 1 to 10, not {shown}."


def test_rating_of_a_huge_number_is_refused_without_writing_it_out() -> None:
    with pytest.raises(InvalidRating) as refusal:
        GameRating(10**5_000)

    assert str(refusal.value) == "A rating is from 1 to 10, not a number that large."


def test_rating_of_bool_is_refused() -> None:
    with pytest.raises(InvalidRating):
        GameRating(True)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "recommended"), [(6, False), (7, True), (10, True)])
def test_recommendation_starts_at_seven(value: int, recommended: bool) -> None:
    assert GameRating(value).is_recommended is recommended


def test_title_is_trimmed_and_whitespace_collapsed() -> None:
    assert Title("  Hollow \n  Knight \t").text == "Hollow Knight"


def test_title_drops_control_and_zero_width_characters() -> None:
    assert Title("Ha\x00d\u200bes\x1b[31m\u202e").text == "Hades[31m"


def test_title_folds_case_accents_and_punctuation() -> None:
    assert Title("Pokémon: Red!").folded == Title("POKEMON red").folded == "pokemon red"


def test_title_of_only_punctuation_still_has_a_folded_form() -> None:
    assert Title("!!!").folded == "!!!"


def test_title_keeps_markup_as_plain_text() -> None:
    assert Title("<b>Hades</b> *bold* @everyone").text == "<b>Hades</b> *bold* @everyone"


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "\u200b\u200d"])
def test_empty_title_is_refused(text: str) -> None:
    with pytest.raises(InvalidTitle, match="empty"):
        Title(text)


def test_title_longer_than_200_is_refused() -> None:
    assert len(Title("x" * 200).text) == 200
    with pytest.raises(InvalidTitle, match="5000 characters long; keep it to 200"):
        Title("x" * 5000)


@pytest.mark.parametrize(
    ("alias", "platform"),
    [
        ("ps5", Platform.PS5),
        ("PS4", Platform.PS4),
        ("switch", Platform.SWITCH),
        ("Nintendo Switch", Platform.SWITCH),
        ("pc", Platform.PC),
        ("xbox series x", Platform.XBOX_SERIES),
        ("Steam Deck", Platform.STEAM_DECK),
        ("3ds", Platform.N3DS),
    ],
)
def test_platform_aliases(alias: str, platform: Platform) -> None:
    assert Platform.parse(alias) is platform


def test_unknown_platform_says_what_to_write() -> None:
    with pytest.raises(UnknownPlatform, match="try pc, ps5, switch"):
        Platform.parse("toaster")


def test_status_parse_accepts_names_and_aliases() -> None:
    assert GameStatus.parse("Completed") is GameStatus.COMPLETED
    assert GameStatus.parse("done") is GameStatus.COMPLETED
    assert GameStatus.parse("dropped") is GameStatus.ABANDONED


def test_unknown_status_lists_the_statuses() -> None:
    with pytest.raises(UnknownStatus, match="wishlist, backlog, playing"):
        GameStatus.parse("beaten-ish")


def test_a_stored_title_is_taken_as_it_was_stored() -> None:
    typed = Title("  Pokémon:\u200b Red ")
    stored = Title.from_stored(typed.text, typed.folded)
    assert (stored.text, stored.folded) == ("Pokémon: Red", "pokemon red")
    assert stored == typed
