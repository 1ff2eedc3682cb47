"""Which chat a native poll of the bot's was sent to, so that taps on it count as votes.

Telegram tells the bot who answered a poll and which options they chose, but not in which chat;
Discord tells the chat and the message, but not whether the bot sent that poll. Either way the
bot notes the chat under the poll's id (Telegram's poll id, Discord's message id) when it sends
the poll, and notes the poll as the chat's latest. A tap on an older poll, or on somebody
else's, is not counted, since /vote counts in the chat's latest poll only. The notes live in
Redis, shared by every bot instance, for a week; a note that cannot be written or read means
the tap is not counted, never an error.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

KEY_PREFIX = "questrya:{platform}:poll"
KEEP_SECONDS = 7 * 24 * 3600
CONNECT_TIMEOUT_SECONDS = 2.0

log = logging.getLogger(__name__)


class PollChats:
    """The notes of one platform's polls."""

    def __init__(self, connection: aioredis.Redis, platform: str) -> None:
        self._connection = connection
        self._prefix = KEY_PREFIX.format(platform=platform)

    @classmethod
    def connect(cls, redis_url: str, platform: str) -> PollChats:
        connection = aioredis.Redis.from_url(
            redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
        return cls(connection, platform)

    async def remember(self, poll_id: str, chat_id: str) -> None:
        """The poll was sent to the chat, and is now the chat's latest."""
        try:
            async with self._connection.pipeline(transaction=True) as pipe:
                pipe.set(self._poll_key(poll_id), chat_id, ex=KEEP_SECONDS)
                pipe.set(self._latest_key(chat_id), poll_id, ex=KEEP_SECONDS)
                await pipe.execute()
        except RedisError as error:
            log.warning("could not note the chat of poll %s: %s", poll_id, error)

    async def chat_of_latest(self, poll_id: str) -> str | None:
        """The chat the poll was sent to, if it is still that chat's latest poll."""
        try:
            chat_id = _text(await self._connection.get(self._poll_key(poll_id)))
            latest = (
                _text(await self._connection.get(self._latest_key(chat_id))) if chat_id else None
            )
        except RedisError as error:
            log.warning("could not read the chat of poll %s: %s", poll_id, error)
            return None
        return chat_id if chat_id and latest == poll_id else None

    async def move_chat(self, old_chat_id: str, new_chat_id: str) -> None:
        """The chat got a new id (a Telegram group became a supergroup): its latest poll goes on
        counting there. Safe to repeat, and a poll opened at the new id meanwhile stays the
        latest."""
        try:
            poll_id = _text(await self._connection.get(self._latest_key(old_chat_id)))
            if not poll_id:
                return
            # The poll first: once the new chat names it its latest, a tap must find it there.
            await self._connection.set(self._poll_key(poll_id), new_chat_id, ex=KEEP_SECONDS)
            await self._connection.set(
                self._latest_key(new_chat_id), poll_id, ex=KEEP_SECONDS, nx=True
            )
        except RedisError as error:
            log.warning("could not move the polls of chat %s: %s", old_chat_id, error)

    async def aclose(self) -> None:
        await self._connection.aclose()

    def _poll_key(self, poll_id: str) -> str:
        return f"{self._prefix}:{poll_id}"

    def _latest_key(self, chat_id: str) -> str:
        return f"{self._prefix}:latest:{chat_id}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
