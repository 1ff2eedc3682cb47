"""Which chat a native poll of the bot's was sent to, so that taps on it count as votes.

Telegram tells the bot who answered a poll and which options they chose, but not in which chat;
Discord tells the chat and the message, but not whether the bot sent that poll. Either way the
bot notes the chat under the poll's id (Telegram's poll id, Discord's message id) when it sends
the poll, and notes the poll as the chat's latest. A tap on an older poll, or on somebody
else's, is not counted, since /vote counts in the chat's latest poll only. The notes live in
Redis, shared by every bot instance, for a week; a note that cannot be written or read means
the tap is not counted, never an error.

Which poll is the latest goes by the id of the message that carries it, not by which note came
last: two polls sent in quick succession are noted concurrently, and the older one's note can
arrive second. Message ids grow with time within a chat on both platforms.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

KEY_PREFIX = "questrya:{platform}:poll"
KEEP_SECONDS = 7 * 24 * 3600
# Below every message id: a poll moved to a chat's new id ranks under any poll opened there.
MOVED_POLL_RANK = 0
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

    async def remember(self, poll_id: str, chat_id: str, message_id: int) -> None:
        """The poll was sent to the chat in message `message_id`; it is the chat's latest
        unless a later message carries one."""
        try:
            async with self._connection.pipeline(transaction=True) as pipe:
                pipe.set(self._poll_key(poll_id), chat_id, ex=KEEP_SECONDS)
                self._rank_in_chat(pipe, chat_id, poll_id, message_id)
                await pipe.execute()
        except RedisError as error:
            log.warning("could not note the chat of poll %s: %s", poll_id, error)

    async def chat_of_latest(self, poll_id: str) -> str | None:
        """The chat the poll was sent to, if it is still that chat's latest poll."""
        try:
            chat_id = _text(await self._connection.get(self._poll_key(poll_id)))
            latest = await self._latest_in(chat_id) if chat_id else None
        except RedisError as error:
            log.warning("could not read the chat of poll %s: %s", poll_id, error)
            return None
        return chat_id if chat_id and latest == poll_id else None

    async def move_chat(self, old_chat_id: str, new_chat_id: str) -> None:
        """The chat got a new id (a Telegram group became a supergroup): its latest poll goes on
        counting there. Safe to repeat, and a poll opened at the new id meanwhile stays the
        latest."""
        try:
            poll_id = await self._latest_in(old_chat_id)
            if not poll_id:
                return
            # The poll first: once the new chat names it its latest, a tap must find it there.
            await self._connection.set(self._poll_key(poll_id), new_chat_id, ex=KEEP_SECONDS)
            async with self._connection.pipeline(transaction=True) as pipe:
                self._rank_in_chat(pipe, new_chat_id, poll_id, MOVED_POLL_RANK)
                await pipe.execute()
        except RedisError as error:
            log.warning("could not move the polls of chat %s: %s", old_chat_id, error)

    async def _latest_in(self, chat_id: str) -> str | None:
        newest = await self._connection.zrange(self._latest_key(chat_id), -1, -1)
        return _text(newest[0]) if newest else None

    def _rank_in_chat(self, pipe: Pipeline, chat_id: str, poll_id: str, rank: int) -> None:
        """Queue on `pipe`: the chat's polls, ranked by message id, keep only the latest."""
        # Scores are doubles, so Discord's 64-bit ids one step apart can tie; a tie ranks by
        # the poll id, which on Discord is that message id, as a string of as many digits.
        key = self._latest_key(chat_id)
        pipe.zadd(key, {poll_id: rank})
        pipe.zremrangebyrank(key, 0, -2)
        pipe.expire(key, KEEP_SECONDS)

    async def aclose(self) -> None:
        await self._connection.aclose()

    def _poll_key(self, poll_id: str) -> str:
        return f"{self._prefix}:{poll_id}"

    def _latest_key(self, chat_id: str) -> str:
        # Not the ":latest:" strings of earlier versions: this key is a sorted set.
        return f"{self._prefix}:newest:{chat_id}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
