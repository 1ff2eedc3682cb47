"""Looking games up: facts saved, one message pushed per event, choices instead of guesses."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from questrya.common.errors import InvalidInput
from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.metadata import service
from tests.fake_provider import FakeProvider
from tests.fakes import FakeUnitOfWork

CHAT = ChatAddress("console", "user:alice")
ALICE = 1


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


async def added(uow: FakeUnitOfWork, title: str) -> int:
    game = await game_service.add_to_backlog(uow=uow, player_id=ALICE, title=title, added_in=CHAT)
    return game.id


async def fetch(uow: FakeUnitOfWork, provider: FakeProvider, game_id: int) -> str:
    return await service.fetch_for_game(uow_factory=lambda: uow, provider=provider, game_id=game_id)


def pushed(uow: FakeUnitOfWork) -> list[str]:
    return [n.text for n in uow.committed_notifications.values()]


async def test_a_found_game_gets_its_facts_and_one_message(
    uow: FakeUnitOfWork, provider: FakeProvider
) -> None:
    game_id = await added(uow, "hades")
    assert await fetch(uow, provider, game_id) == "found"
    game = uow.committed_games[game_id]
    assert (game.title.text, game.lookup.value, game.facts_id) == ("Hades", "found", 1)
    assert pushed(uow) == ["Hades (2020) · PC, Nintendo Switch · Roguelike · Metacritic 93 · ~22 h"]
    notification = next(iter(uow.committed_notifications.values()))
    assert notification.address == CHAT
    assert notification.image_url == "https://img.example/hades.jpg"
    assert f"deliver-notification-{notification.id}" in uow.job_queue.jobs


async def test_running_the_job_twice_pushes_one_message_and_searches_once(
    uow: FakeUnitOfWork, provider: FakeProvider
) -> None:
    game_id = await added(uow, "Hades")
    await fetch(uow, provider, game_id)
    await fetch(uow, provider, game_id)
    assert len(pushed(uow)) == 1
    assert provider.searches == ["Hades"]


async def test_several_close_matches_push_a_choice(
    uow: FakeUnitOfWork, provider: FakeProvider
) -> None:
    game_id = await added(uow, "Doom")
    assert await fetch(uow, provider, game_id) == "ambiguous"
    notification = next(iter(uow.committed_notifications.values()))
    assert notification.text == "Which Doom did you mean?"
    assert [o.command for o in notification.options] == [
        f"/identify doom-1993 #{game_id}",
        f"/identify doom-2016 #{game_id}",
    ]
    assert uow.committed_games[game_id].lookup.value == "ambiguous"


async def test_no_match_keeps_the_title_as_written(
    uow: FakeUnitOfWork, provider: FakeProvider
) -> None:
    game_id = await added(uow, "My Homebrew Thing")
    assert await fetch(uow, provider, game_id) == "none"
    assert pushed(uow) == [
        "I couldn't find My Homebrew Thing in the games database; kept as you wrote it."
    ]
    assert uow.committed_games[game_id].title.text == "My Homebrew Thing"


async def test_a_removed_game_is_skipped(uow: FakeUnitOfWork, provider: FakeProvider) -> None:
    assert await fetch(uow, provider, 999) == "game removed"
    assert provider.searches == []


async def test_the_canonical_title_never_collides_with_another_game(
    uow: FakeUnitOfWork, provider: FakeProvider
) -> None:
    await added(uow, "Hades")
    typo_id = await added(uow, "Hadess")
    await fetch(uow, provider, typo_id)
    assert uow.committed_games[typo_id].title.text == "Hadess"


async def test_a_choice_links_the_picked_game(uow: FakeUnitOfWork, provider: FakeProvider) -> None:
    game_id = await added(uow, "Doom")
    await fetch(uow, provider, game_id)
    await service.choose(uow=uow, player_id=ALICE, title="Doom", source_id="doom-2016")
    assert f"apply-choice-{game_id}-doom-2016" in uow.job_queue.jobs
    await service.apply_choice(
        uow_factory=lambda: uow, provider=provider, game_id=game_id, source_id="doom-2016"
    )
    assert uow.committed_games[game_id].lookup.value == "found"
    assert pushed(uow)[-1] == "Doom (2016)"


async def test_a_choice_of_an_id_the_database_lacks_says_so_once(
    uow: FakeUnitOfWork, provider: FakeProvider
) -> None:
    game_id = await added(uow, "Doom")
    await fetch(uow, provider, game_id)

    for _ in range(2):  # a retried job tells the chat once
        verdict = await service.apply_choice(
            uow_factory=lambda: uow, provider=provider, game_id=game_id, source_id="doom-3000"
        )

    assert verdict == "none"
    assert pushed(uow)[-1] == 'The games database has no game "doom-3000"; Doom is left as it was.'
    assert len(pushed(uow)) == 2  # the choice offered, then this
    assert uow.committed_games[game_id].lookup.value == "ambiguous"


@pytest.mark.parametrize("source_id", ["x\x00y", "a" * 101, "-hades", "doom 2016", "ha/des", ""])
async def test_a_choice_of_something_no_id_looks_like_is_refused(
    uow: FakeUnitOfWork, source_id: str
) -> None:
    await added(uow, "Doom")

    with pytest.raises(InvalidInput, match="no games-database id: pick one of the games offered"):
        await service.choose(uow=uow, player_id=ALICE, title="Doom", source_id=source_id)

    assert uow.job_queue.jobs.keys() == {"fetch-metadata-1"}


async def test_nightly_refresh_batches_and_is_idempotent_per_day(
    uow: FakeUnitOfWork, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "REFRESH_BATCH_SIZE", 1)
    for title in ("Hades", "Hades II"):
        await fetch(uow, provider, await added(uow, title))
    night = date(2026, 11, 27)
    refresh = service.refresh_scores
    first = await refresh(uow_factory=lambda: uow, provider=provider, day=night)
    assert (first.checked, first.changed) == (2, 0)
    assert provider.score_requests == [["hades"], ["hades-ii"]]
    again = await refresh(uow_factory=lambda: uow, provider=provider, day=night)
    assert (again.checked, again.changed) == (0, 0)
    provider.games["hades"] = dataclasses.replace(provider.games["hades"], critic_score=90)
    next_night = await refresh(uow_factory=lambda: uow, provider=provider, day=date(2026, 11, 28))
    assert (next_night.checked, next_night.changed) == (2, 1)
