"""Taps on /tonight's native Telegram poll, heard while the bot is still noting where the poll
lives: the bot's real Application on the offline fake Bot API, the services on the in-memory
unit of work, the poll notes on the session's Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Update

from tests.fakes import FakeUnitOfWork
from tests.fakes_servers.telegram import Call
from tests.held_poll_chats import HeldPollChats
from tests.telegram_factories import (
    OfflineTelegram,
    make_group_chat,
    make_poll_answer_update,
    make_private_chat,
    make_user,
    offline_bot,
    text_of,
)

ALICE = make_user(701, "Alice", "alice")
BOB = make_user(702, "Bob", "bob")
FRIENDS = make_group_chat(-100_777, "Friends")
SEND_SECONDS = 5.0


@pytest.fixture
async def poll_chats(redis_server_url: str) -> AsyncIterator[HeldPollChats]:
    # A platform of its own: other tests' fakes number their polls from the same start.
    chats = HeldPollChats.connect(redis_server_url, "telegram-poll-taps")
    yield chats
    await chats.aclose()


@pytest.fixture
async def telegram(poll_chats: HeldPollChats) -> AsyncIterator[OfflineTelegram]:
    uow = FakeUnitOfWork()
    async for bot in offline_bot(lambda: uow, poll_chats):
        bot.api.chats[FRIENDS.id] = FRIENDS.to_dict()
        for user in (ALICE, BOB):
            for title in ("Celeste", "Hades"):
                await bot.type(make_private_chat(user), user, f"/add {title}")
        await bot.type(FRIENDS, BOB, "/share on")
        yield bot


async def poll_sent(telegram: OfflineTelegram, *, number: int) -> Call:
    """The bot's `number`th sendPoll, once it is sent."""
    deadline = asyncio.get_running_loop().time() + SEND_SECONDS
    while len(sent := telegram.api.calls_to("sendPoll")) < number:
        assert asyncio.get_running_loop().time() < deadline, f"no poll number {number}"
        await asyncio.sleep(0.01)
    return sent[number - 1]


def tap(telegram: OfflineTelegram, poll_id: str, option: int) -> Update:
    return make_poll_answer_update(poll_id, user=BOB, option_ids=[option], bot=telegram.bot)


async def test_taps_heard_before_the_latest_poll_is_noted_count_in_the_latest_only(
    telegram: OfflineTelegram, poll_chats: HeldPollChats
) -> None:
    _, older = await telegram.type(FRIENDS, ALICE, "/tonight")

    with poll_chats.holding():
        tonight = asyncio.create_task(telegram.type(FRIENDS, ALICE, "/tonight"))
        latest = await poll_sent(telegram, number=2)  # the group sees it; its note waits
        taps = [
            asyncio.create_task(telegram.feed(tap(telegram, older.result["poll"]["id"], 0))),
            asyncio.create_task(telegram.feed(tap(telegram, latest.result["poll"]["id"], 1))),
        ]
        await asyncio.sleep(0.1)  # time enough to count them, had they not waited
    await asyncio.gather(tonight, *taps)

    [standing] = await telegram.type(FRIENDS, ALICE, "/vote 1")
    assert text_of(standing) == "Alice voted. So far: Celeste 1 · Hades 1"  # Bob's is Hades


async def test_a_tap_counts_in_the_latest_poll_when_the_older_polls_note_came_last(
    telegram: OfflineTelegram, poll_chats: HeldPollChats
) -> None:
    with poll_chats.holding(notes=1):
        older_tonight = asyncio.create_task(telegram.type(FRIENDS, ALICE, "/tonight"))
        older = await poll_sent(telegram, number=1)  # its note waits
        await telegram.type(FRIENDS, ALICE, "/tonight")
        latest = await poll_sent(telegram, number=2)
    await older_tonight

    await telegram.feed(tap(telegram, older.result["poll"]["id"], 0))
    await telegram.feed(tap(telegram, latest.result["poll"]["id"], 1))

    [standing] = await telegram.type(FRIENDS, ALICE, "/vote 1")
    assert text_of(standing) == "Alice voted. So far: Celeste 1 · Hades 1"  # Bob's is Hades
