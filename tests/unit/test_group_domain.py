"""Group rules: admins switch the feed, members choose to share, the console's founder rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from questrya.common.errors import NotGroupAdmin
from questrya.common.values import ChatAddress
from questrya.groups.domain import Group

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
