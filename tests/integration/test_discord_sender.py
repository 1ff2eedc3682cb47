"""The Discord sender against the fake Discord: REST only, Discord's message shape, 429s waited
out, gone channels reported, and limits shared through a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from questrya.common.values import ChatAddress
from questrya.notifications.domain import Notification, Option
from questrya.notifications.senders import discord as discord_sender
from questrya.notifications.senders.base import ChatGone, DeliveryFailed
from questrya.notifications.senders.discord import DiscordSender
from tests.fakes_servers.discord import FakeDiscord

MESSAGES = "POST /channels/{channel_id}/messages"
JSON = dict[str, object]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def connection(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def sender(fake: FakeDiscord, connection: aioredis.Redis) -> AsyncIterator[DiscordSender]:
    made = DiscordSender(fake.token, connection, api_url=fake.api_url)
    yield made
    await made.aclose()


@pytest.fixture
async def channel(fake: FakeDiscord) -> JSON:
    guild = await fake.add_guild("Club", owner=fake.user("Alice"))
    return guild.channels[0]


def notification(channel: JSON, text: str, **fields: object) -> Notification:
    address = ChatAddress("discord", str(channel["id"]))
    return Notification("event", address, text, datetime.now(UTC), **fields)  # type: ignore[arg-type]


async def test_details_go_out_as_an_embed_with_buttons_and_no_mentions(
    fake: FakeDiscord, sender: DiscordSender, channel: JSON
) -> None:
    text = "Hades (2020) · PC · Metacritic 93 @everyone\nData: RAWG: https://rawg.io/games/hades"
    choices = (Option("Hades", "/identify hades #1"), Option("Hades II", "/identify hades-ii #1"))

    await sender.send(notification(channel, text, image_url="https://img/h.jpg", options=choices))

    [call] = fake.calls_to(MESSAGES)
    assert call.authorized
    assert call.body["allowed_mentions"] == {"parse": []}
    assert call.body["content"] is None
    [embed] = call.response["embeds"]
    assert embed["thumbnail"]["url"] == "https://img/h.jpg"
    assert embed["description"] == (
        "Hades (2020) · PC · Metacritic 93 @everyone\n[Data: RAWG](https://rawg.io/games/hades)"
    )
    [row] = call.response["components"]
    assert [b["custom_id"] for b in row["components"]] == [
        "q|*|/identify hades #1",
        "q|*|/identify hades-ii #1",
    ]
    assert call.response["mention_everyone"] is False
    assert fake.gateway.sessions == []  # REST only


async def test_plain_text_is_escaped_content(
    fake: FakeDiscord, sender: DiscordSender, channel: JSON
) -> None:
    await sender.send(notification(channel, "I couldn't find *Zelda* in the games database."))

    [call] = fake.calls_to(MESSAGES)
    assert call.response["content"] == r"I couldn't find \*Zelda\* in the games database."
    assert call.response["embeds"] == []


async def test_a_429_is_waited_out_and_the_message_sent_once(
    fake: FakeDiscord, sender: DiscordSender, channel: JSON
) -> None:
    fake.fail_next(MESSAGES, retry_after=0.4, channel_id=str(channel["id"]))

    await sender.send(notification(channel, "Celeste (2018)"))

    refused, sent = fake.calls_to(MESSAGES)
    assert (refused.status, sent.status) == (429, 200)
    assert sent.time - refused.time >= 0.4
    assert len(fake.channel_messages(str(channel["id"]))) == 1


async def test_a_long_retry_after_is_left_to_the_jobs_retries(
    fake: FakeDiscord, sender: DiscordSender, channel: JSON
) -> None:
    fake.fail_next(MESSAGES, retry_after=600, channel_id=str(channel["id"]))

    with pytest.raises(DeliveryFailed, match="wait 600 s"):
        await sender.send(notification(channel, "Celeste (2018)"))

    assert len(fake.calls_to(MESSAGES)) == 1


@pytest.mark.parametrize(
    ("gone", "refusal"), [("removed", "403: Missing Access"), ("deleted", "404: Unknown Channel")]
)
async def test_a_channel_the_bot_cannot_reach_is_gone(
    fake: FakeDiscord, sender: DiscordSender, channel: JSON, gone: str, refusal: str
) -> None:
    if gone == "removed":
        fake.remove_bot_from(str(channel["guild_id"]))
    else:
        fake.delete_channel(str(channel["id"]))

    with pytest.raises(ChatGone, match=refusal):
        await sender.send(notification(channel, "Celeste (2018)"))

    assert len(fake.calls_to(MESSAGES)) == 1


async def test_a_server_error_is_worth_retrying_later(
    fake: FakeDiscord, sender: DiscordSender, channel: JSON
) -> None:
    fake.fail_next(MESSAGES, status=500)

    with pytest.raises(DeliveryFailed, match="500"):
        await sender.send(notification(channel, "Celeste (2018)"))


async def test_workers_share_the_channel_limit_through_redis(
    fake: FakeDiscord,
    connection: aioredis.Redis,
    channel: JSON,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Discord's window a little shorter than the senders' shared one: a send's trip to the fake
    # may take longer than the next one's, which would count both in one window.
    fake.message_limit = (2, 0.8)
    monkeypatch.setattr(discord_sender, "CHANNEL_LIMIT", "2/1 second")
    senders = [DiscordSender(fake.token, connection, api_url=fake.api_url) for _ in range(2)]

    for number in range(5):  # as if jobs alternated between two worker processes
        await senders[number % 2].send(notification(channel, f"message {number}"))

    assert [call.status for call in fake.calls_to(MESSAGES)] == [200] * 5
    for each in senders:
        await each.aclose()


async def test_a_wrong_token_is_not_echoed(fake: FakeDiscord, connection: aioredis.Redis) -> None:
    wrong = DiscordSender("wrong-token-s3cr3t", connection, api_url=fake.api_url)
    guild = await fake.add_guild("Club", owner=fake.user("Alice"))

    with pytest.raises(DeliveryFailed) as failure:
        await wrong.send(notification(guild.channels[0], "hello"))
    await wrong.aclose()

    assert "401" in str(failure.value)
    assert "s3cr3t" not in str(failure.value)
