"""IgdbProvider against a local fake IGDB + Twitch, with the token shared through real Redis."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator
from datetime import date

import pytest
from redis.asyncio import Redis

from questrya.metadata.domain import GameFacts
from questrya.metadata.providers.base import ProviderError, ProviderUnavailable
from questrya.metadata.providers.http import RateLimitError, build_client
from questrya.metadata.providers.igdb import IgdbProvider
from questrya.metadata.providers.twitch_token import TOKEN_EXPIRY_MARGIN_SECONDS
from tests.fakes_servers.igdb import (
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_LIFETIME_SECONDS,
    FakeIgdb,
    RecordedRequest,
)

TOKEN_KEY = f"questrya:igdb:token:{CLIENT_ID}"
SHORT_READ_TIMEOUT = 0.3
GAME_FIELDS = (
    "name,slug,first_release_date,platforms.name,genres.name,cover.image_id,"
    "aggregated_rating,total_rating,url"
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIgdb]:
    async with FakeIgdb() as server:
        yield server


@pytest.fixture
async def token_cache(redis_url: str) -> AsyncIterator[Redis]:
    cache = Redis.from_url(redis_url)
    yield cache
    await cache.aclose()


def _provider(fake: FakeIgdb, token_cache: Redis, **options: float) -> IgdbProvider:
    return IgdbProvider(
        CLIENT_ID, CLIENT_SECRET, fake.api_url, fake.token_url, token_cache=token_cache, **options
    )


@pytest.fixture
async def provider(fake: FakeIgdb, token_cache: Redis) -> AsyncIterator[IgdbProvider]:
    provider = _provider(fake, token_cache)
    yield provider
    await provider.aclose()


def _bearer(request: RecordedRequest) -> str:
    return request.headers["Authorization"].removeprefix("Bearer ")


async def test_search_puts_the_exact_title_first(fake: FakeIgdb, provider: IgdbProvider) -> None:
    found = await provider.search("Hades")

    assert [facts.title for facts in found] == ["Hades", "Hades II"]
    assert fake.tables["games"][0]["name"] == "Hades II"  # IGDB's order, undone


async def test_search_sends_the_apicalypse_query_with_credentials(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    await provider.search("Celeste", limit=5)

    games, times = fake.api_requests
    assert (games.method, games.path) == ("POST", "/v4/games")
    assert games.body == f'search "Celeste"; fields {GAME_FIELDS}; limit 20;'
    assert games.headers["Client-ID"] == CLIENT_ID
    assert _bearer(games) in fake.valid_tokens
    assert times.path == "/v4/game_time_to_beats"
    assert times.body == "fields game_id,normally; where game_id = (26226); limit 500;"


async def test_search_maps_every_field(provider: IgdbProvider) -> None:
    (hades, *_) = await provider.search("Hades")

    assert hades == GameFacts(
        source="igdb",
        source_id="113112",
        title="Hades",
        release_date=date(2020, 9, 17),
        platforms=(
            "PC",
            "Mac",
            "Nintendo Switch",
            "PlayStation 4",
            "PlayStation 5",
            "Xbox One",
            "Xbox Series X|S",
            "iOS",
        ),
        genres=("Role-playing (RPG)", "Hack and slash/Beat 'em up", "Indie", "Adventure"),
        cover_url="https://images.igdb.com/igdb/image/upload/t_cover_big/co39vc.jpg",
        critic_score=94,  # 93.5, rounded half up
        hours_to_beat=22.5,  # 81,000 seconds
        source_url="https://www.igdb.com/games/hades--1",
    )


async def test_missing_facts_stay_unknown(provider: IgdbProvider) -> None:
    prototype = await provider.details("999001")

    assert prototype == GameFacts(
        source="igdb",
        source_id="999001",
        title="Untitled Knight Prototype",
        source_url="https://www.igdb.com/games/untitled-knight-prototype",
    )


async def test_unknown_platforms_are_dropped(provider: IgdbProvider) -> None:
    knight = await provider.details("14593")

    assert knight is not None
    assert knight.platforms == (
        "PC",
        "Mac",
        "Linux",
        "Nintendo Switch",
        "PlayStation 4",
        "Xbox One",
    )


async def test_quotes_and_backslashes_in_titles_are_escaped(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    title = 'Hades "Director\'s Cut" \\ Deluxe'

    await provider.search(title)

    assert fake.api_requests[0].body.startswith(
        'search "Hades \\"Director\'s Cut\\" \\\\ Deluxe"; '
    )
    assert fake.searched_titles == [title]


async def test_details_asks_for_one_id(fake: FakeIgdb, provider: IgdbProvider) -> None:
    celeste = await provider.details("26226")

    assert celeste is not None
    assert (celeste.title, celeste.critic_score, celeste.hours_to_beat) == ("Celeste", 91, 8.5)
    assert fake.api_requests[0].body == f"fields {GAME_FIELDS}; where id = 26226;"


async def test_details_of_a_game_igdb_does_not_have_is_none(provider: IgdbProvider) -> None:
    assert await provider.details("424242") is None


async def test_details_of_an_id_that_is_not_a_number_asks_nothing(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    assert await provider.details("1; fields *") is None
    assert fake.api_requests == []


async def test_critic_scores_asks_for_500_games_in_one_request(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    ids = ["113112", "26226", "999001", *(str(number) for number in range(1, 498))]

    scores = await provider.critic_scores(ids)

    (request,) = fake.api_requests
    assert request.body.startswith("where id = (113112,26226,999001,1,2,")
    assert request.body.endswith(",497); fields aggregated_rating; limit 500;")
    assert scores["113112"] == 94
    assert scores["26226"] == 91
    assert scores["999001"] is None  # in IGDB, without a critic score
    assert scores["1"] is None  # not in IGDB
    assert len(scores) == 500


async def test_critic_scores_splits_larger_batches(fake: FakeIgdb, provider: IgdbProvider) -> None:
    scores = await provider.critic_scores([str(number) for number in range(1, 1202)])

    assert len(fake.api_requests) == 3
    assert len(scores) == 1201


async def test_the_token_is_fetched_once_and_shared_through_redis(
    fake: FakeIgdb, token_cache: Redis
) -> None:
    first, second = _provider(fake, token_cache), _provider(fake, token_cache)

    await first.search("Hades")
    await second.search("Celeste")

    assert len(fake.token_requests) == 1
    assert len({_bearer(request) for request in fake.api_requests}) == 1
    lifetime = await token_cache.ttl(TOKEN_KEY)
    assert 0 < lifetime <= TOKEN_LIFETIME_SECONDS - TOKEN_EXPIRY_MARGIN_SECONDS
    await first.aclose()
    await second.aclose()


async def test_requests_started_together_fetch_one_token(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    await asyncio.gather(*(provider.details(str(number)) for number in range(1, 6)))

    assert len(fake.token_requests) == 1


async def test_an_expired_token_is_replaced_once_and_the_request_retried(
    fake: FakeIgdb, provider: IgdbProvider, token_cache: Redis
) -> None:
    await provider.details("26226")
    old_token = _bearer(fake.api_requests[-1])
    fake.expire_tokens()

    celeste = await provider.details("26226")

    assert celeste is not None
    assert len(fake.token_requests) == 2
    refused, retried = fake.api_requests[2:4]
    assert (_bearer(refused), refused.body) == (old_token, retried.body)
    new_token = _bearer(retried)
    assert new_token != old_token
    assert await token_cache.get(TOKEN_KEY) == new_token.encode()


async def test_a_second_401_makes_the_provider_unavailable(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    fake.answer_next(2, 401)

    with pytest.raises(ProviderUnavailable, match="401"):
        await provider.details("26226")

    assert len(fake.api_requests) == 2
    assert len(fake.token_requests) == 2


async def test_a_wrong_secret_makes_the_provider_unavailable(
    fake: FakeIgdb, token_cache: Redis
) -> None:
    provider = IgdbProvider(
        CLIENT_ID, "wrong-secret", fake.api_url, fake.token_url, token_cache=token_cache
    )

    with pytest.raises(ProviderUnavailable, match="403") as raised:
        await provider.search("Hades")

    assert "wrong-secret" not in "".join(traceback.format_exception(raised.value))
    await provider.aclose()


async def test_too_many_requests_carries_retry_after(
    fake: FakeIgdb, provider: IgdbProvider
) -> None:
    fake.answer_next(1, 429, retry_after="2")

    with pytest.raises(RateLimitError) as raised:
        await provider.search("Hades")

    assert raised.value.retry_after == 2.0
    assert not isinstance(raised.value, ProviderUnavailable)


async def test_server_error_is_worth_retrying(fake: FakeIgdb, provider: IgdbProvider) -> None:
    fake.answer_next(1, 502)

    with pytest.raises(ProviderError, match="502") as raised:
        await provider.search("Hades")

    assert not isinstance(raised.value, ProviderUnavailable)


async def test_timeout_is_worth_retrying(fake: FakeIgdb, token_cache: Redis) -> None:
    fake.hang_next()
    async with build_client(read_timeout=SHORT_READ_TIMEOUT) as client:
        provider = IgdbProvider(
            CLIENT_ID,
            CLIENT_SECRET,
            fake.api_url,
            fake.token_url,
            token_cache=token_cache,
            client=client,
        )
        with pytest.raises(ProviderError, match="timed out") as raised:
            await provider.search("Hades")

    assert not isinstance(raised.value, ProviderUnavailable)


async def test_the_secret_and_token_never_reach_logs_or_errors(
    fake: FakeIgdb, provider: IgdbProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await provider.search("Hades")
    fake.answer_next(2, 401)
    with pytest.raises(ProviderUnavailable) as raised:
        await provider.search("Hades")

    assert "HTTP Request: POST" in caplog.text
    issued = {_bearer(request) for request in fake.api_requests}
    for secret in (CLIENT_SECRET, *issued):
        assert secret not in caplog.text
        assert secret not in "".join(traceback.format_exception(raised.value))


async def test_requests_are_spaced_to_four_a_second(fake: FakeIgdb, provider: IgdbProvider) -> None:
    await asyncio.gather(*(provider.details(str(number)) for number in range(1, 13)))

    sent_at = [request.received_at for request in fake.api_requests]
    assert len(sent_at) == 12
    # Any window shorter than a second holds at most 4 requests (a little slack for jitter).
    for first, start in enumerate(sent_at):
        assert sum(1 for moment in sent_at[first:] if moment - start < 0.9) <= 4
    assert sent_at[-1] - sent_at[0] >= 2.5


async def test_never_more_than_eight_requests_open(fake: FakeIgdb, token_cache: Redis) -> None:
    provider = _provider(fake, token_cache, max_requests_per_second=1000)
    fake.response_delay = 0.2

    await asyncio.gather(*(provider.details(str(number)) for number in range(1, 21)))

    assert len(fake.api_requests) == 20
    assert fake.max_in_flight == 8
    await provider.aclose()
