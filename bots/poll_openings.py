"""Answers that may open a poll, under way, so that a tap waits for its poll's note.

The platform shows a poll as soon as the bot sends it, but the bot notes where the poll lives
only once the send returns, and it handles events concurrently. A quick tap can therefore be
heard before the note is written: a tap on the new poll would find no note and be dropped, and
a tap on the previous poll would still find it the chat's latest and count in the new one. So a
tap first waits for the answers under way when it arrived (new ones cannot concern it), at most
NOTE_WAIT_SECONDS, then reads the notes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Longer than a send and its note take on a healthy connection; a tap is never answered in the
# chat, so waiting costs nobody anything, but the wait must end if a send hangs.
NOTE_WAIT_SECONDS = 5.0

log = logging.getLogger(__name__)


class PollOpenings:
    """The answers under way in this bot process, by chat."""

    def __init__(self, wait_seconds: float = NOTE_WAIT_SECONDS) -> None:
        self._wait_seconds = wait_seconds
        self._under_way: dict[asyncio.Event, str] = {}

    @asynccontextmanager
    async def opening(self, chat_id: str) -> AsyncIterator[None]:
        """Around sending an answer to `chat_id` and noting its poll, if it has one."""
        finished = asyncio.Event()
        self._under_way[finished] = chat_id
        try:
            yield
        finally:
            del self._under_way[finished]
            finished.set()

    async def settled(self, chat_id: str | None = None) -> None:
        """Returns once the answers under way now (to `chat_id`, or to any chat for None) have
        finished, or after the wait's limit."""
        waiting = [
            finished.wait()
            for finished, chat in self._under_way.items()
            if chat_id is None or chat == chat_id
        ]
        if not waiting:
            return
        try:
            async with asyncio.timeout(self._wait_seconds):
                await asyncio.gather(*waiting)
        except TimeoutError:
            log.warning("a tap went on after %.0f s without its poll's note", self._wait_seconds)
