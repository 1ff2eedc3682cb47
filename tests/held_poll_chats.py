"""Poll notes on the session's Redis whose writing a test can hold back, like a Redis slow to
answer: the bot has sent the poll, and a tap on it can be heard before the note is written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from questrya.notifications.senders.poll_chats import PollChats


class HeldPollChats(PollChats):
    """PollChats whose `remember` waits while `holding()`."""

    held: asyncio.Event | None = None

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self.held = asyncio.Event()
        try:
            yield
        finally:
            self.held.set()
            self.held = None

    async def remember(self, poll_id: str, chat_id: str) -> None:
        if self.held is not None:
            await self.held.wait()
        await super().remember(poll_id, chat_id)
