"""RawgProvider against a local fake RAWG serving real-shaped JSON."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from questrya.metadata.domain import GameFacts
from questrya.metadata.providers.base import ProviderError, ProviderUnavailable
from questrya.metadata.providers.http import RateLimitError, build_client
from questrya.metadata.providers.rawg import RawgProvider
from tests.fakes_servers.rawg import API_KEY, FakeRawg, rawg_game

SHORT_READ_TIMEOUT = 0.3


@pytest.fixture
async def fake() -> AsyncIterator[FakeRawg]:
    async with FakeRawg() as server:
        yield server


@pytest.fixture
async def provider(fake: FakeRawg) -> AsyncIterator[RawgProvider]:
    provider = RawgProvider(API_KEY, api_url=fake.url)
    yield provider
    await provider.aclose()


@pytest.fixture
async def impatient_provider(fake: FakeRawg) -> AsyncIterator[RawgProvider]:
    """A provider whose client gives up reading after SHORT_READ_TIMEOUT seconds."""
    async with build_client(read_timeout=SHORT_READ_TIMEOUT) as client:
        yield RawgProvider(API_KEY, api_url=fake.url, client=client)


def _full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


async def test_search_puts_the_exact_title_first_whatever_rawg_order(
    fake: FakeRawg, provider: RawgProvider
) -> None:
    async with httpx.AsyncClient() as client:
        raw = await client.get(f"{fake.url}/games", params={"key": API_KEY, "search": "Hades"})
    assert raw.json()["results"][0]["name"] == "Hades II"  # the noise the ranking must undo

    found = await provider.search("hades")

    assert [facts.title for facts in found] == ["Hades", "Hades II", "Hades' Star"]


def _mario_game(number: int, name: str) -> dict[str, Any]:
    return rawg_game(
        game_id=number,
        slug=f"mario-{number}",
        name=name,
        released=None,
        platforms=None,
        genres=[],
        image=None,
        metacritic=None,
        playtime=0,
        search_score="60.0",
    )


async def test_search_finds_a_full_title_among_more_games_sharing_a_word_than_a_page() -> None:
    parties = [_mario_game(number, f"Mario Party {number}") for number in range(1, 31)]
    async with FakeRawg(games=[*parties, _mario_game(31, "Mario Kart DS")]) as fake:
        provider = RawgProvider(API_KEY, api_url=fake.url)
        found = await provider.search("Mario Kart DS", limit=1)
        await provider.aclose()

    assert [facts.title for facts in found] == ["Mario Kart DS"]


async def test_search_asks_rawg_for_a_precise_search_with_the_key(
    fake: FakeRawg, provider: RawgProvider
) -> None:
    await provider.search("Celeste", limit=5)

    (request,) = fake.requests
    assert request.path == "/api/games"
    assert request.query == {
        "search": "Celeste",
        "search_precise": "true",
        "page_size": "20",
        "key": API_KEY,
    }
    assert request.headers["User-Agent"].startswith("Questrya/")


async def test_search_respects_the_limit(provider: RawgProvider) -> None:
    found = await provider.search("Hades", limit=1)

    assert [facts.title for facts in found] == ["Hades"]


async def test_search_maps_every_field(provider: RawgProvider) -> None:
    (hades, *_) = await provider.search("Hades")

    assert hades == GameFacts(
        source="rawg",
        source_id="hades-2",
        title="Hades",
        release_date=date(2020, 9, 17),
        platforms=(
            "PC",
            "Nintendo Switch",
            "PlayStation 5",
            "PlayStation 4",
            "Xbox One",
            "Xbox Series X|S",
            "Mac",
            "iOS",
        ),
        genres=("Action", "Indie", "RPG"),
        cover_url="https://media.rawg.io/media/games/1f4/1f47a270b8f241e4676b14d39ec620f7.jpg",
        critic_score=93,
        hours_to_beat=22.0,
        source_url="https://rawg.io/games/hades-2",
    )


async def test_unknown_platforms_are_dropped(provider: RawgProvider) -> None:
    knight = await provider.details("hollow-knight")

    assert knight is not None
    assert "Web" not in knight.platforms
    assert knight.platforms[0] == "PC"


async def test_missing_facts_stay_unknown(provider: RawgProvider) -> None:
    (prototype,) = await provider.search("Untitled Knight Prototype", limit=1)

    assert prototype == GameFacts(
        source="rawg",
        source_id="untitled-knight-prototype",
        title="Untitled Knight Prototype",
        source_url="https://rawg.io/games/untitled-knight-prototype",
    )


async def test_zero_playtime_means_unknown_hours(provider: RawgProvider) -> None:
    hades_ii = await provider.details("hades-ii")

    assert hades_ii is not None
    assert hades_ii.hours_to_beat is None
    assert hades_ii.critic_score == 95


async def test_details_reads_the_game_page(fake: FakeRawg, provider: RawgProvider) -> None:
    celeste = await provider.details("celeste")

    assert celeste is not None
    assert (celeste.title, celeste.release_date, celeste.critic_score, celeste.hours_to_beat) == (
        "Celeste",
        date(2018, 1, 25),
        88,
        8.0,
    )
    assert fake.requests[-1].path == "/api/games/celeste"


async def test_details_of_a_game_rawg_does_not_have_is_none(provider: RawgProvider) -> None:
    assert await provider.details("no-such-game") is None


async def test_critic_scores_asks_once_per_game(fake: FakeRawg, provider: RawgProvider) -> None:
    scores = await provider.critic_scores(["hades-2", "celeste", "no-such-game", "hades-star"])

    assert scores == {"hades-2": 93, "celeste": 88, "no-such-game": None, "hades-star": None}
    assert sorted(request.path for request in fake.requests) == [
        "/api/games/celeste",
        "/api/games/hades-2",
        "/api/games/hades-star",
        "/api/games/no-such-game",
    ]


async def test_critic_scores_keeps_at_most_four_requests_open(
    fake: FakeRawg, provider: RawgProvider
) -> None:
    fake.response_delay = 0.1

    await provider.critic_scores([f"game-{number}" for number in range(12)])

    assert len(fake.requests) == 12
    assert fake.max_in_flight == 4


async def test_critic_scores_raises_the_first_failure(
    fake: FakeRawg, provider: RawgProvider
) -> None:
    fake.answer_next(1, 503)

    with pytest.raises(ProviderError, match="503"):
        await provider.critic_scores(["hades-2", "celeste"])


async def test_too_many_requests_carries_retry_after(
    fake: FakeRawg, provider: RawgProvider
) -> None:
    fake.answer_next(1, 429, retry_after="30")

    with pytest.raises(RateLimitError) as raised:
        await provider.search("Hades")

    assert raised.value.retry_after == 30.0
    assert isinstance(raised.value, ProviderError)
    assert not isinstance(raised.value, ProviderUnavailable)


async def test_server_error_is_worth_retrying(fake: FakeRawg, provider: RawgProvider) -> None:
    fake.answer_next(1, 500)

    with pytest.raises(ProviderError, match="500") as raised:
        await provider.search("Hades")

    assert not isinstance(raised.value, ProviderUnavailable)


async def test_timeout_is_worth_retrying(fake: FakeRawg, impatient_provider: RawgProvider) -> None:
    fake.hang_next()

    with pytest.raises(ProviderError, match="timed out") as raised:
        await impatient_provider.search("Hades")

    assert not isinstance(raised.value, ProviderUnavailable)


async def test_a_refused_key_makes_the_provider_unavailable(fake: FakeRawg) -> None:
    provider = RawgProvider("not-the-key", api_url=fake.url)

    with pytest.raises(ProviderUnavailable, match="401"):
        await provider.search("Hades")
    await provider.aclose()


async def test_rawg_pages_link_with_the_key_like_the_real_api(fake: FakeRawg) -> None:
    fake.max_page_size = 2
    async with httpx.AsyncClient() as client:
        raw = await client.get(f"{fake.url}/games", params={"key": API_KEY, "search": "Hades"})

    assert f"key={API_KEY}" in raw.json()["next"]


async def test_the_key_never_reaches_logs_or_errors(
    fake: FakeRawg, impatient_provider: RawgProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.max_page_size = 2  # so the answer carries a `next` link with the key in it
    errors: list[ProviderError] = []

    await impatient_provider.search("Hades")
    for misbehave in (lambda: fake.answer_next(1, 500), fake.hang_next):
        misbehave()
        try:
            await impatient_provider.search("Hades")
        except ProviderError as error:
            errors.append(error)

    assert len(errors) == 2
    assert "HTTP Request: GET" in caplog.text  # httpx did log the URLs...
    assert API_KEY not in caplog.text  # ...without the key
    for error in errors:
        assert API_KEY not in _full_text(error)
