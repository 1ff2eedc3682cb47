"""Which bot reply a later push should follow, shared by the Telegram bot and the workers.

The bot answers `/add Hades` at once; a worker pushes the game's details seconds later. The bot
notes its answer's message id and the player who asked under the reply's topic ("game-12"); the
sender finds them from the notification's event key ("game-12-facts-…"), sends the details as a
reply to that answer, and lets only that player press its buttons. The notes live in Redis for
a week; without one, a push is simply the next message in the chat.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

# Event keys of the metadata slice's pushes about one game: "game-<id>-<event>".
TOPIC_OF_EVENT = re.compile(r"^(game-\d+)-")
KEY_PREFIX = "questrya:telegram:thread"
KEEP_SECONDS = 7 * 24 * 3600
CONNECT_TIMEOUT_SECONDS = 2.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thread:
    """The bot's answer a push follows, and the only player who may press the push's buttons."""

    message_id: int
    owner: str


def topic_of(event_key: str) -> str | None:
    """The topic a notification is about ("game-12"), or None for pushes not about one game."""
    match = TOPIC_OF_EVENT.match(event_key)
    return match[1] if match else None


class ReplyThreads:
    """Notes in Redis; a note that cannot be written or read is skipped, never an error."""

    def __init__(self, connection: aioredis.Redis) -> None:
        self._connection = connection

    @classmethod
    def connect(cls, redis_url: str) -> ReplyThreads:
        return cls(
            aioredis.Redis.from_url(redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
        )

    async def remember(self, chat_id: str, topic: str, thread: Thread) -> None:
        note = f"{thread.message_id} {thread.owner}"
        try:
            await self._connection.set(_key(chat_id, topic), note, ex=KEEP_SECONDS)
        except RedisError as error:
            log.warning("could not note the reply to follow for %s: %s", topic, error)

    async def recall(self, chat_id: str, event_key: str) -> Thread | None:
        topic = topic_of(event_key)
        if topic is None:
            return None
        try:
            note = await self._connection.get(_key(chat_id, topic))
        except RedisError as error:
            log.warning("could not read the reply to follow for %s: %s", topic, error)
            return None
        text = note.decode() if isinstance(note, bytes) else str(note or "")
        message_id, _, owner = text.partition(" ")
        return Thread(int(message_id), owner) if message_id.isdigit() and owner else None

    async def aclose(self) -> None:
        await self._connection.aclose()


def _key(chat_id: str, topic: str) -> str:
    return f"{KEY_PREFIX}:{chat_id}:{topic}"
