"""Groups in the console, as friends would use them: `questrya console --chat friends` runs, one
after the other, with the private Redis and the worker each run starts for itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import run_questrya

pytestmark = pytest.mark.e2e


def in_friends(data_dir: Path, user: str, script: str) -> list[str]:
    """What `user` sees after typing `script` in the console group chat "friends"."""
    result = run_questrya(data_dir, "console", "--user", user, "--chat", "friends", stdin=script)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout.splitlines()


def test_bobs_recommendation_reaches_the_feed_and_tonight_finds_common_games(
    tmp_path: Path,
) -> None:
    alice = in_friends(tmp_path, "alice", "/feed on\n/add Celeste\n/add Hades\n/wish Tunic\n")
    assert alice[0].startswith("The feed is on")

    bob = in_friends(
        tmp_path, "bob", "/share on\n/add Hades\n/add Tunic\n/add Celeste\n/done Celeste 9\n"
    )
    assert bob[0].startswith("You share here")
    assert "⭐ bob recommends Celeste · 9/10" in bob
    facts = bob[bob.index("⭐ bob recommends Celeste · 9/10") + 1]
    assert facts.startswith("Celeste (2018) · PC")

    tonight = in_friends(tmp_path, "alice", "/tonight\n1\n")
    assert tonight[0] == "What shall we play tonight?"
    assert tonight[1] == "1. Hades — alice, bob · Metacritic 93"
    assert tonight[2].startswith("2. Tunic — alice, bob")
    assert tonight[-1] == "alice voted. So far: Hades 1 · Tunic 0"  # Celeste: Bob finished it


def test_in_the_console_only_the_first_member_switches_the_feed(tmp_path: Path) -> None:
    in_friends(tmp_path, "alice", "/add Hades\n")
    bob = in_friends(tmp_path, "bob", "/feed off\n/backlog\n")
    assert bob[0] == "Only the group's admins can turn the feed on or off."
    alice = in_friends(tmp_path, "alice", "/feed off\n")
    assert alice == ["The feed is off: nothing more will be posted here."]


def test_a_member_who_does_not_share_stays_out_of_the_feed(tmp_path: Path) -> None:
    in_friends(tmp_path, "alice", "/feed on\n")
    carol = in_friends(tmp_path, "carol", "/add Celeste\n/done Celeste 10\n")
    assert not [line for line in carol if "recommends" in line]
    alice = in_friends(tmp_path, "alice", "/tonight\n")
    assert alice[0].startswith("No game is on two or more lists here yet")
