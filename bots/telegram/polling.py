"""Long polling that confirms updates only once they are handled.

PTB's own Updater confirms a batch of updates (by asking for the next offset) as soon as it has
queued them in memory, before any is handled: a bot killed then loses them all. Here the next
getUpdates, whose offset is what confirms a batch to Telegram, is sent only once the whole
batch is handled. A bot killed mid-batch gets the batch again after its restart; the updates
it had handled are dropped by the dispatcher, the others are handled. Pending updates are
never dropped at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import TypeVar

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bots.telegram.updates import UpdateDispatcher

LONG_POLL = timedelta(seconds=10)  # what PTB's run_polling asks for
RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # after a failed getUpdates, growing

log = logging.getLogger(__name__)

Answer = TypeVar("Answer")


async def poll_updates(
    bot: Bot, dispatcher: UpdateDispatcher, stopped: asyncio.Event, allowed_updates: Sequence[str]
) -> None:
    """Fetch, handle, confirm, until `stopped` is set; a batch begun is finished first."""
    await bot.delete_webhook(drop_pending_updates=False)  # getUpdates refuses while one is set
    offset: int | None = None
    failures = 0
    while not stopped.is_set():
        fetch = bot.get_updates(offset=offset, timeout=LONG_POLL, allowed_updates=allowed_updates)
        try:
            updates = await _unless_stopped(fetch, stopped)
        except InvalidToken:
            raise  # a wrong token does not mend itself: stop
        except TelegramError as error:
            log.warning("getUpdates failed (%s); trying again", error.message)
            await _pause(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)], stopped)
            failures += 1
            continue
        if updates is None:
            break  # stopped while waiting: whatever that poll brought is not confirmed
        failures = 0
        await dispatcher.handle_batch(updates)
        offset = updates[-1].update_id + 1 if updates else offset
    await _confirm(bot, offset)


async def _confirm(bot: Bot, offset: int | None) -> None:
    """Tell Telegram the last batch is handled, so the next start does not fetch it again (it
    would drop it as handled anyway)."""
    if offset is None:
        return
    try:
        await bot.get_updates(offset=offset, limit=1, timeout=timedelta(0))
    except TelegramError as error:
        log.warning("could not confirm the last updates (%s); they come back next start", error)


async def _unless_stopped(awaitable: Awaitable[Answer], stopped: asyncio.Event) -> Answer | None:
    """The awaitable's result, or None if `stopped` is set first (the awaitable is cancelled)."""
    work = asyncio.ensure_future(awaitable)
    stop = asyncio.ensure_future(stopped.wait())
    await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if work.done():
        return work.result()
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError, TelegramError):
        await work
    return None


async def _pause(seconds: float, stopped: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopped.wait(), seconds)
