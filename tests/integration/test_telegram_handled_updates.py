"""The record of handled Telegram updates in the test session's redis-server, and the bot's
dispatcher reading it: a redelivered update is answered once; one left unfinished is finished
by a poller and refused for now behind a webhook. The bot's real Application on the offline
fake Bot API, the services on the in-memory unit of work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bots.telegram.updates import Outcome, UpdateDispatcher
from questrya.notifications.senders.telegram_updates import (
    CLAIM_SECONDS,
    HANDLED_SECONDS,
    HandledUpdates,
    Seen,
)
from tests.fakes import FakeUnitOfWork
from tests.telegram_factories import OfflineTelegram, make_private_chat, make_user, offline_bot

BOT_ID = "123456"
ALICE = make_user(801, "Alice", "alice")


@pytest.fixture
async def handled(redis_url: str) -> AsyncIterator[HandledUpdates]:
    record = HandledUpdates.connect(redis_url, BOT_ID)
    yield record
    await record.aclose()


@pytest.fixture
async def telegram() -> AsyncIterator[OfflineTelegram]:
    uow = FakeUnitOfWork()
    async for bot in offline_bot(lambda: uow):
        yield bot


async def test_an_update_is_new_then_unfinished_then_handled(handled: HandledUpdates) -> None:
    first = await handled.claim(41)
    again = await handled.claim(41)
    await handled.mark_handled(41)

    assert (first, again, await handled.claim(41)) == (Seen.NEW, Seen.UNFINISHED, Seen.HANDLED)
    assert await handled.claim(42) is Seen.NEW  # each update on its own


async def test_a_claim_lapses_soon_and_a_handled_mark_outlives_telegrams_day(
    handled: HandledUpdates, redis_url: str
) -> None:
    await handled.claim(51)
    await handled.claim(52)
    await handled.mark_handled(52)

    client = aioredis.Redis.from_url(redis_url)
    claimed, marked = [await client.ttl(f"questrya:telegram:update:{BOT_ID}:{n}") for n in (51, 52)]
    await client.aclose()
    assert 0 < claimed <= CLAIM_SECONDS
    assert 24 * 3600 < marked <= HANDLED_SECONDS


async def test_without_redis_every_update_gets_through() -> None:
    unreachable = HandledUpdates.connect("redis://127.0.0.1:9/0", BOT_ID)  # the discard port

    seen = [await unreachable.claim(61), await unreachable.claim(61)]
    await unreachable.mark_handled(61)  # logged, not raised
    await unreachable.aclose()

    assert seen == [Seen.NEW, Seen.NEW]


async def test_a_redelivered_update_is_answered_once(
    telegram: OfflineTelegram, handled: HandledUpdates
) -> None:
    update = telegram.typed(make_private_chat(ALICE), ALICE, "/add Hades")
    dispatcher = UpdateDispatcher(telegram.application, handled, finish_unfinished=True)

    outcomes = [await dispatcher.handle(update), await dispatcher.handle(update)]

    assert outcomes == [Outcome.HANDLED, Outcome.DUPLICATE]
    assert len(telegram.api.calls_to("sendMessage")) == 1


async def test_an_update_left_unfinished_is_finished_by_a_poller_and_put_off_by_a_webhook(
    telegram: OfflineTelegram, handled: HandledUpdates
) -> None:
    update = telegram.typed(make_private_chat(ALICE), ALICE, "/start")
    await handled.claim(update.update_id)  # as a process that died while handling it
    webhook = UpdateDispatcher(telegram.application, handled, finish_unfinished=False)
    poller = UpdateDispatcher(telegram.application, handled, finish_unfinished=True)

    behind_a_webhook = await webhook.handle(update)
    sent_meanwhile = len(telegram.api.calls_to("sendMessage"))
    polled = await poller.handle(update)

    assert (behind_a_webhook, sent_meanwhile) == (Outcome.BUSY, 0)
    assert polled is Outcome.HANDLED
    assert len(telegram.api.calls_to("sendMessage")) == 1
    assert await handled.claim(update.update_id) is Seen.HANDLED
