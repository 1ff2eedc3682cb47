"""Updates handed to the Application: each handled once, in order within its chat, several
chats at a time.

Within a chat, updates run one after the other in the order Telegram numbered them: a
player's `/add Hades` is answered before their `/done Hades` runs, and a group's `/tonight`
opens its vote before the next `/vote` counts. Different chats run side by side (up to
`concurrency` updates at once), so one chat's database work or slow reply does not hold up the
others.

Each update is claimed in the shared record before it runs and marked handled once its handler
(and so its answer) is done; an update Telegram delivers again is dropped if it was handled
(see questrya/notifications/senders/telegram_updates.py for what each state means).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import Counter
from collections.abc import AsyncIterator, Hashable, Sequence

from telegram import Update
from telegram.ext import Application

from questrya.notifications.senders.telegram_updates import (
    CLAIM_RENEWAL_SECONDS,
    HandledUpdates,
    Seen,
)

# Enough to keep the database and the Bot API busy at once; beyond it, updates of more chats
# only wait for the same single database connection.
CONCURRENT_UPDATES = 16

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"  # handled before: dropped
    BUSY = "busy"  # claimed by a handler still running elsewhere: to be delivered again


class UpdateDispatcher:
    """Runs updates through the Application's handlers, at most once each."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        handled: HandledUpdates | None,
        *,
        finish_unfinished: bool,
        concurrency: int = CONCURRENT_UPDATES,
    ) -> None:
        """`finish_unfinished`: an update claimed but never marked handled was left by a dead
        process (true of long polling, where one process polls at a time), rather than being
        handled right now by another instance (webhook mode)."""
        self._application = application
        self._handled = handled
        self._finish_unfinished = finish_unfinished
        self._slots = asyncio.Semaphore(concurrency)
        self._chat_turns: dict[Hashable, asyncio.Lock] = {}
        self._waiting: Counter[Hashable] = Counter()

    async def handle_batch(self, updates: Sequence[Update]) -> None:
        """Every update of a getUpdates answer, returning once all are handled."""
        outcomes = await asyncio.gather(
            *(self.handle(update) for update in updates), return_exceptions=True
        )
        for update, outcome in zip(updates, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                # Handler errors are the error handler's; this is the dispatcher's own bug.
                log.error("update %s was not handled", update.update_id, exc_info=outcome)

    async def handle(self, update: Update) -> Outcome:
        """Handle one update after the earlier ones of its chat."""
        async with self._turn_in(chat_key(update)), self._slots:
            refused = await self._refusal(update.update_id)
            if refused is not None:
                return refused
            async with self._claim_kept(update.update_id):
                await self._application.process_update(update)
            if self._handled is not None:
                await self._handled.mark_handled(update.update_id)
            return Outcome.HANDLED

    async def _refusal(self, update_id: int) -> Outcome | None:
        """Why the update is not to run now, or None once it is claimed for this handler."""
        if self._handled is None:
            return None
        seen = await self._handled.claim(update_id)
        if seen is Seen.HANDLED:
            log.info("update %s was handled already; dropped", update_id)
            return Outcome.DUPLICATE
        if seen is Seen.UNFINISHED and not self._finish_unfinished:
            return Outcome.BUSY
        if seen is Seen.UNFINISHED:
            log.info("update %s was left unfinished by an earlier run; handling it", update_id)
            await self._handled.renew(update_id)
        return None

    @contextlib.asynccontextmanager
    async def _claim_kept(self, update_id: int) -> AsyncIterator[None]:
        """The update's claim renewed while its handler runs, however long it takes. A renewal
        under way is let finish, so it cannot land after the handled mark."""
        if self._handled is None:
            yield
            return
        done = asyncio.Event()
        renewing = asyncio.create_task(_renew_until(done, self._handled, update_id))
        try:
            yield
        finally:
            done.set()
            await renewing

    @contextlib.asynccontextmanager
    async def _turn_in(self, key: Hashable) -> AsyncIterator[None]:
        """Waits for the chat's earlier updates (asyncio.Lock wakes its waiters in order)."""
        turn = self._chat_turns.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with turn:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._chat_turns[key], self._waiting[key]


async def _renew_until(done: asyncio.Event, handled: HandledUpdates, update_id: int) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), CLAIM_RENEWAL_SECONDS)
        if done.is_set():
            return
        await handled.renew(update_id)


def chat_key(update: Update) -> Hashable:
    """Whose updates must keep their order: the chat's; for a group that became a supergroup,
    the old group's (both of Telegram's notices of the move, one in each chat, run in turn);
    the user's where Telegram names no chat (poll answers); else the update alone."""
    message = update.effective_message
    if message is not None and message.migrate_from_chat_id is not None:
        return ("chat", message.migrate_from_chat_id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return ("update", update.update_id)
