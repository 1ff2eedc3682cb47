"""Poll notes on the session's Redis whose writing a test can hold back, like a Redis slow to
answer: the bot has sent the poll, and a tap on it can be heard before the note is written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from questrya.notifications.senders.poll_chats import PollChats


class HeldPollChats(PollChats):
    """PollChats whose `remember` waits while `holding()`; `written` counts the notes made."""

    held: asyncio.Event | None = None
    to_hold: int | None = None
    written: int = 0

    @contextlib.contextmanager
    def holding(self, notes: int | None = None) -> Iterator[None]:
        """Notes wait till the block ends: all of them, or only the next `notes`."""
        self.held, self.to_hold = asyncio.Event(), notes
        try:
            yield
        finally:
            self.held.set()
            self.held = None

    async def remember(self, poll_id: str, chat_id: str, message_id: int) -> None:
        if (held := self.held) is not None and self.to_hold != 0:
            if self.to_hold is not None:
                self.to_hold -= 1
            await held.wait()
        await super().remember(poll_id, chat_id, message_id)
        self.written += 1
