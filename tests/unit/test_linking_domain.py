"""Link codes, their expiry, the limit on refused codes, and who may join whom: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from questrya.common.errors import (
    AlreadyLinked,
    InvalidLinkCode,
    InvalidLinkCodeFormat,
    NothingToUnlink,
    PlatformAlreadyLinked,
)
from questrya.linking.domain import (
    CODE_ALPHABET,
    CODE_LENGTH,
    LinkCode,
    hash_code,
    new_code,
    read_code,
    require_joinable,
    require_linked,
    require_usable,
    shown,
    wait_after_refusals,
    whole_minutes,
)
from questrya.users.domain import Account, AccountKey, Player

NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TELEGRAM = AccountKey("telegram", "111")
DISCORD = AccountKey("discord", "222")
OTHER_TELEGRAM = AccountKey("telegram", "333")


def player(player_id: int, *keys: AccountKey) -> Player:
    return Player(
        id=player_id,
        accounts=[
            Account(key=key, display_name=key.external_id, player_id=player_id) for key in keys
        ],
    )


def a_code(issued_by: AccountKey = TELEGRAM, player_id: int = 1) -> LinkCode:
    return LinkCode.issue(code="K7QM4XPA", player_id=player_id, issued_by=issued_by, on=NOW)


# -- the code itself ------------------------------------------------------------------------


def test_a_new_code_has_eight_characters_without_look_alikes() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200  # drawn at random: no repeats in a small sample
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
    assert not set(CODE_ALPHABET) & set("0O1IL")


def test_a_code_is_shown_in_two_groups_of_four() -> None:
    assert shown("K7QM4XPA") == "K7QM-4XPA"


@pytest.mark.parametrize(
    "typed", ["K7QM-4XPA", "k7qm-4xpa", "K7QM 4XPA", "k7qm4xpa", " K7QM-4XPA "]
)
def test_a_code_is_read_whatever_its_case_and_separators(typed: str) -> None:
    assert read_code(typed) == "K7QM4XPA"


@pytest.mark.parametrize(
    "typed", ["", "K7QM-4XP", "K7QM-4XPAB", "K7QM-4XP0", "hello there", "ÄÄÄÄÄÄÄÄ"]
)
def test_anything_not_shaped_like_a_code_is_refused_with_its_shape(typed: str) -> None:
    with pytest.raises(InvalidLinkCodeFormat, match="8 letters and digits"):
        read_code(typed)


def test_only_a_hash_of_the_code_is_kept() -> None:
    stored = a_code()
    assert stored.code_hash == hash_code("K7QM4XPA")
    assert "K7QM4XPA" not in repr(stored)
    assert len(stored.code_hash) == 64
    assert hash_code("K7QM4XPB") != stored.code_hash


# -- expiry and single use ------------------------------------------------------------------


def test_a_code_works_for_ten_minutes() -> None:
    code = a_code()
    assert code.valid_minutes == 10
    code.check_usable(on=NOW + timedelta(minutes=9, seconds=59))
    with pytest.raises(InvalidLinkCode) as refused:
        code.check_usable(on=NOW + timedelta(minutes=10))
    assert refused.value.reason == "expired"


def test_a_used_code_says_so_even_once_expired() -> None:
    code = a_code()
    code.used_at = NOW + timedelta(minutes=1)
    for moment in (NOW + timedelta(minutes=2), NOW + timedelta(hours=1)):
        with pytest.raises(InvalidLinkCode) as refused:
            code.check_usable(on=moment)
        assert refused.value.reason == "used"


def test_no_code_found_is_a_wrong_code() -> None:
    with pytest.raises(InvalidLinkCode) as refused:
        require_usable(None, on=NOW)
    assert refused.value.reason == "wrong"
    assert require_usable(a_code(), on=NOW).player_id == 1


def test_each_refusal_has_its_own_message() -> None:
    messages = {reason: InvalidLinkCode(reason).message for reason in ("wrong", "expired", "used")}
    assert len(set(messages.values())) == 3
    assert all("\n" not in message for message in messages.values())


# -- the limit on refused codes -------------------------------------------------------------


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_four_refusals_leave_the_door_open() -> None:
    assert wait_after_refusals(minutes_ago(1, 2, 3, 4), now=NOW) is None


def test_five_refusals_close_it_until_the_oldest_is_fifteen_minutes_old() -> None:
    wait = wait_after_refusals(minutes_ago(1, 2, 3, 4, 5), now=NOW)
    assert wait == timedelta(minutes=10)
    assert whole_minutes(wait) == 10


def test_with_more_refusals_the_wait_ends_when_five_are_left_in_the_window() -> None:
    assert wait_after_refusals(minutes_ago(1, 2, 3, 4, 6, 14), now=NOW) == timedelta(minutes=9)


def test_refusals_older_than_the_window_do_not_count() -> None:
    assert wait_after_refusals(minutes_ago(1, 2, 3, 4, 15, 16, 60), now=NOW) is None


@pytest.mark.parametrize(
    ("wait", "minutes"),
    [(timedelta(seconds=1), 1), (timedelta(0), 1), (timedelta(minutes=14, seconds=1), 15)],
)
def test_the_wait_is_told_in_whole_minutes_rounded_up(wait: timedelta, minutes: int) -> None:
    assert whole_minutes(wait) == minutes


# -- who may join whom ----------------------------------------------------------------------


def test_accounts_on_two_platforms_may_join() -> None:
    require_joinable(a_code(), player(1, TELEGRAM), player(2, DISCORD), typed_by=DISCORD)


def test_typing_ones_own_code_is_refused() -> None:
    with pytest.raises(AlreadyLinked) as refused:
        require_joinable(a_code(), player(1, TELEGRAM), player(1, TELEGRAM), typed_by=TELEGRAM)
    assert refused.value.own_code


def test_an_account_already_sharing_the_backlog_is_told_so() -> None:
    linked = player(1, TELEGRAM, DISCORD)
    with pytest.raises(AlreadyLinked) as refused:
        require_joinable(a_code(), linked, linked, typed_by=DISCORD)
    assert not refused.value.own_code


def test_one_account_per_platform() -> None:
    with pytest.raises(PlatformAlreadyLinked, match="telegram"):
        require_joinable(
            a_code(),
            player(1, TELEGRAM, DISCORD),
            player(2, OTHER_TELEGRAM),
            typed_by=OTHER_TELEGRAM,
        )


def test_only_a_linked_account_can_unlink() -> None:
    with pytest.raises(NothingToUnlink):
        require_linked(player(1, TELEGRAM))
    require_linked(player(1, TELEGRAM, DISCORD))
