"""The Telegram sender the workers push with: the real python-telegram-bot Bot against the fake
Bot API over HTTP, with its rate limits and reply threads in the test session's redis-server.
"""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from telegram import Bot, Message

from questrya.common.values import ChatAddress, GameRating
from questrya.groups.domain import completion_post
from questrya.notifications.domain import Notification, Option
from questrya.notifications.senders.base import ChatGone, DeliveryFailed
from questrya.notifications.senders.factory import build_senders
from questrya.notifications.senders.poll_chats import PollChats
from questrya.notifications.senders.telegram import (
    GROUP_LIMIT,
    MAX_ATTEMPTS,
    OVERALL_LIMIT,
    PRIVATE_CHAT_LIMIT,
    TelegramSender,
)
from questrya.notifications.senders.telegram_threads import ReplyThreads, Thread
from questrya.settings import Settings
from tests.fakes_servers.telegram import Call, FakeBotApi

TOKEN = "7654321:AAE-sender-test-token"
JSON = dict[str, Any]
CHOICE = Option("Doom (2016) · PC", "/identify doom-2016 #12")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="QuestryaBot") as fake:
        yield fake


@pytest.fixture
async def connection(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def sender(api: FakeBotApi, connection: aioredis.Redis) -> AsyncIterator[TelegramSender]:
    """The sender as a worker builds it from settings: QUESTRYA_TELEGRAM_API_URL is honoured."""
    settings = Settings(telegram_token=TOKEN, telegram_api_url=api.base_url)
    telegram = build_senders(settings, connection)["telegram"]
    assert isinstance(telegram, TelegramSender)
    yield telegram
    await telegram.aclose()


@pytest.fixture
def alice(api: FakeBotApi) -> JSON:
    user = api.user(42, "Alice", "alice")
    return api.private_chat(user)


@pytest.fixture
def club(api: FakeBotApi) -> JSON:
    return api.group_chat(-4201, "Backlog club")


def push(chat: JSON, text: str, event_key: str = "game-7-facts", **fields: Any) -> Notification:
    return Notification(
        event_key=event_key,
        address=ChatAddress("telegram", str(chat["id"])),
        text=text,
        created_at=dtm.datetime(2026, 11, 26, tzinfo=dtm.UTC),
        **fields,
    )


def sends(api: FakeBotApi) -> list[Call]:
    return [call for call in api.calls if call.method in ("sendMessage", "sendPhoto")]


def buttons(call: Call) -> dict[str, str]:
    keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in keyboard for button in row}


async def test_a_push_arrives_in_html_with_the_text_as_written(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    await sender.send(push(alice, "<b>x</b> & co (2020) · PC"))

    [sent] = sends(api)
    assert sent.params["parse_mode"] == "HTML"
    assert sent.params["text"] == "&lt;b&gt;x&lt;/b&gt; &amp; co (2020) · PC"
    assert sent.result["text"] == "<b>x</b> & co (2020) · PC"
    assert "entities" not in sent.result


async def bot_answered_doom(api: FakeBotApi, connection: aioredis.Redis, chat: JSON) -> Message:
    """The bot's answer to user 42's `/add Doom` in `chat`, noted as the one game 12's pushes
    follow."""
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        answer = await bot.send_message(chat["id"], "Added Doom to your backlog.")
    await ReplyThreads(connection).remember(str(chat["id"]), "game-12", Thread(answer.id, "42"))
    return answer


async def test_a_push_about_a_game_follows_the_bots_answer_and_its_buttons_are_the_askers(
    api: FakeBotApi, sender: TelegramSender, connection: aioredis.Redis, club: JSON
) -> None:
    answer = await bot_answered_doom(api, connection, club)

    await sender.send(push(club, "Which Doom did you mean?", "game-12-choice", options=(CHOICE,)))

    [sent] = sends(api)[-1:]
    assert sent.params["reply_parameters"]["message_id"] == answer.id
    assert sent.result["reply_to_message"]["text"] == "Added Doom to your backlog."
    assert buttons(sent) == {"Doom (2016) · PC": "42|/identify doom-2016 #12"}


async def test_with_no_answer_noted_a_push_is_the_next_message_and_anyone_may_press(
    api: FakeBotApi, sender: TelegramSender, club: JSON
) -> None:
    await sender.send(push(club, "Which Doom did you mean?", "game-13-choice", options=(CHOICE,)))

    [sent] = sends(api)
    assert "reply_parameters" not in sent.params
    assert buttons(sent) == {"Doom (2016) · PC": "*|/identify doom-2016 #12"}


async def test_an_option_too_long_for_a_button_is_written_out_to_type(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    long_command = "/identify " + "x" * 60 + " #12"

    await sender.send(push(alice, "Which one?", options=(Option("X <1>", long_command),)))

    [sent] = sends(api)
    assert "reply_markup" not in sent.params
    assert sent.result["text"] == f"Which one?\nX <1>: {long_command}"


async def test_a_cover_goes_as_a_photo_and_an_unusable_one_falls_back_to_the_text(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    cover = "https://media.rawg.io/media/games/hades.jpg"
    await sender.send(push(alice, "Hades (2020)", image_url=cover))
    api.fail_next("sendPhoto", 400, description="Bad Request: failed to get HTTP URL content")
    await sender.send(push(alice, "Celeste (2018)", "game-8-facts", image_url=cover))

    photo, refused, text = sends(api)
    assert (photo.method, photo.params["photo"], photo.result["caption"]) == (
        "sendPhoto",
        cover,
        "Hades (2020)",
    )
    assert (refused.method, refused.status) == ("sendPhoto", 400)
    assert (text.method, text.result["text"]) == ("sendMessage", "Celeste (2018)")


async def test_a_feed_recommendation_goes_to_the_group_with_its_cover_and_facts_escaped(
    api: FakeBotApi, sender: TelegramSender, club: JSON
) -> None:
    cover = "https://media.rawg.io/media/games/celeste.jpg"
    facts = "Celeste <2018> · PC & Switch · Metacritic 88 · ~8 h"
    text = completion_post("Bob <3", "Celeste", GameRating(9), facts)

    await sender.send(push(club, text, "feed-completion-3", image_url=cover))

    [photo] = sends(api)
    assert (photo.method, photo.params["chat_id"], photo.params["photo"]) == (
        "sendPhoto",
        club["id"],
        cover,
    )
    assert photo.params["caption"] == (
        "⭐ Bob &lt;3 recommends Celeste · 9/10\nCeleste &lt;2018&gt; · PC &amp; Switch · "
        "Metacritic 88 · ~8 h"
    )
    assert photo.result["caption"] == text
    assert "reply_markup" not in photo.params  # a feed post is news, with nothing to press


async def test_a_429_is_waited_out_for_retry_after_then_the_push_is_sent(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    api.fail_next("sendMessage", retry_after=1)

    await sender.send(push(alice, "Hades (2020)"))

    refused, delivered = sends(api)
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.time - refused.time >= 1  # it waited what Telegram asked, not less


async def test_a_5xx_is_retried_and_the_push_still_arrives_once(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    api.fail_next("sendMessage", status=502, times=2)

    await sender.send(push(alice, "Hades (2020)"))

    assert [call.status for call in sends(api)] == [502, 502, 200]
    assert api.duplicates() == {}


async def test_a_5xx_that_lasts_is_left_to_the_jobs_retry(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    api.fail_next("sendMessage", status=500, times=MAX_ATTEMPTS + 1)

    with pytest.raises(DeliveryFailed, match="Telegram unavailable"):
        await sender.send(push(alice, "Hades (2020)"))

    assert [call.status for call in sends(api)] == [500] * MAX_ATTEMPTS


@pytest.mark.parametrize("kind", ["group", "private"])
async def test_a_403_means_the_chat_is_gone_and_is_not_retried(
    api: FakeBotApi, sender: TelegramSender, alice: JSON, club: JSON, kind: str
) -> None:
    chat = club if kind == "group" else alice
    api.block_chat(chat["id"])

    with pytest.raises(ChatGone, match=r"kicked|blocked"):
        await sender.send(push(chat, "Hades (2020)"))

    assert [call.status for call in sends(api)] == [403]


async def test_a_chat_telegram_does_not_know_is_gone_too(
    api: FakeBotApi, sender: TelegramSender
) -> None:
    with pytest.raises(ChatGone, match="not found"):
        await sender.send(push({"id": -999}, "Hades (2020)"))


async def test_a_group_that_became_a_supergroup_gets_the_push_at_its_new_id(
    api: FakeBotApi, sender: TelegramSender, club: JSON
) -> None:
    supergroup = api.upgrade_group(club, -1001234567890)

    await sender.send(push(club, "Hades (2020)"))

    refused, delivered = sends(api)
    assert (refused.status, refused.params["chat_id"]) == (400, club["id"])
    assert (delivered.status, delivered.params["chat_id"]) == (200, supergroup["id"])


async def test_a_push_that_followed_an_answer_in_the_old_group_keeps_only_its_asker(
    api: FakeBotApi, sender: TelegramSender, connection: aioredis.Redis, club: JSON
) -> None:
    answer = await bot_answered_doom(api, connection, club)
    supergroup = api.upgrade_group(club, -1001234567890)

    await sender.send(push(club, "Which Doom did you mean?", "game-12-choice", options=(CHOICE,)))

    refused, delivered = sends(api)[-2:]
    assert refused.params["reply_parameters"]["message_id"] == answer.id
    assert (delivered.status, delivered.params["chat_id"]) == (200, supergroup["id"])
    assert "reply_parameters" not in delivered.params
    assert buttons(delivered) == {"Doom (2016) · PC": "42|/identify doom-2016 #12"}


async def remaining(connection: aioredis.Redis, limit: str, key: str) -> int:
    """What the shared window in Redis still allows, read with the `limits` library."""
    storage = RedisStorage(
        "async+redis://", implementation="redispy", connection_pool=connection.connection_pool
    )
    stats = await MovingWindowRateLimiter(storage).get_window_stats(parse(limit), "telegram", key)
    return stats.remaining


async def test_pushes_count_against_the_groups_and_the_overall_limits_shared_in_redis(
    sender: TelegramSender, connection: aioredis.Redis, club: JSON
) -> None:
    for game in range(3):
        await sender.send(push(club, f"Game {game}", f"game-{game}-facts"))

    assert await remaining(connection, GROUP_LIMIT, f"chat:{club['id']}") == 20 - 3
    assert OVERALL_LIMIT == "29 per second"  # Telegram's 30, less room for network jitter
    assert await remaining(connection, OVERALL_LIMIT, "all") == 29 - 3


async def test_a_private_chat_gets_a_short_burst_then_about_one_a_second(
    api: FakeBotApi, sender: TelegramSender, alice: JSON
) -> None:
    for game in range(4):
        await sender.send(push(alice, f"Game {game}", f"game-{game}-facts"))

    first, _, _, fourth = sends(api)
    assert PRIVATE_CHAT_LIMIT == "3 per 3 seconds"
    # The fourth waited for the first to leave the 3 s window (less the few ms between a send's
    # turn and its arrival); without the limit all four go within milliseconds.
    assert fourth.time - first.time >= 2.5


async def test_reply_threads_without_redis_are_skipped_not_errors() -> None:
    threads = ReplyThreads.connect("redis://127.0.0.1:1/0")

    await threads.remember("42", "game-1", Thread(5, "42"))

    assert await threads.recall("42", "game-1-facts") is None
    await threads.aclose()


async def test_a_poll_is_found_in_its_chat_while_it_is_the_chats_latest(
    connection: aioredis.Redis,
) -> None:
    polls = PollChats(connection, "telegram")
    await polls.remember("5001", "-4201", 11)
    assert await polls.chat_of_latest("5001") == "-4201"
    assert await PollChats(connection, "discord").chat_of_latest("5001") is None

    await polls.remember("5002", "-4201", 12)
    await polls.remember("6001", "-4301", 3)

    assert await polls.chat_of_latest("5001") is None  # a vote there would land in 5002's
    assert await polls.chat_of_latest("5002") == "-4201"
    assert await polls.chat_of_latest("6001") == "-4301"
    assert await polls.chat_of_latest("7001") is None


# Discord's snowflakes are wider than a double's 53 bits: as Redis scores, these two are equal.
EARLIER_SNOWFLAKE, LATER_SNOWFLAKE = 1_577_955_570_412_056_673, 1_577_955_570_412_056_674
DISCORD_POLLS = (
    (str(EARLIER_SNOWFLAKE), EARLIER_SNOWFLAKE),
    (str(LATER_SNOWFLAKE), LATER_SNOWFLAKE),
)


@pytest.mark.parametrize(
    ("platform", "chat_id", "earlier", "later"),
    [
        ("telegram", "-4601", ("5301", 30), ("5302", 31)),  # (poll id, message id)
        ("discord", "1577955566947561518", *DISCORD_POLLS),
    ],
)
async def test_an_older_polls_note_written_late_leaves_the_newer_poll_the_latest(
    connection: aioredis.Redis,
    platform: str,
    chat_id: str,
    earlier: tuple[str, int],
    later: tuple[str, int],
) -> None:
    polls = PollChats(connection, platform)
    await polls.remember(later[0], chat_id, later[1])  # both were sent; the older one's is slow

    await polls.remember(earlier[0], chat_id, earlier[1])

    assert await polls.chat_of_latest(later[0]) == chat_id
    assert await polls.chat_of_latest(earlier[0]) is None


async def test_a_chats_latest_poll_follows_it_to_its_new_id_once(
    connection: aioredis.Redis,
) -> None:
    polls = PollChats(connection, "telegram")
    await polls.remember("5101", "-4401", 40)
    await polls.remember("5102", "-4401", 41)

    await polls.move_chat("-4401", "-1004401")
    await polls.remember("5103", "-1004401", 2)  # a poll opened in the supergroup
    await polls.move_chat("-4401", "-1004401")  # Telegram's second notice of the move

    assert await polls.chat_of_latest("5102") is None  # no longer the latest at the new id
    assert await polls.chat_of_latest("5103") == "-1004401"
    await polls.move_chat("-4499", "-1004499")  # a chat without polls: nothing to move
    assert not await connection.keys("questrya:telegram:poll:*-1004499")


async def test_a_polls_move_follows_the_poll_before_a_new_one_is_opened(
    connection: aioredis.Redis,
) -> None:
    polls = PollChats(connection, "telegram")
    await polls.remember("5201", "-4501", 50)

    await polls.move_chat("-4501", "-1004501")
    await polls.move_chat("-4501", "-1004501")

    assert await polls.chat_of_latest("5201") == "-1004501"


async def test_poll_notes_without_redis_are_skipped_not_errors() -> None:
    polls = PollChats.connect("redis://127.0.0.1:1/0", "telegram")

    await polls.remember("5001", "-4201", 11)
    await polls.move_chat("-4201", "-1004201")

    assert await polls.chat_of_latest("5001") is None
    await polls.aclose()
