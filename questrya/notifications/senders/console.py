"""The console "platform": pushed messages wait in Redis until the console prints them.

Each chat's inbox is a Redis hash keyed by notification id, so delivering the same notification
twice stores it once, and the console prints and deletes what it finds, in id order.
"""

from __future__ import annotations

import json

import redis
import redis.asyncio as aioredis

from questrya.notifications.domain import Notification
from questrya.notifications.schemas import InboxMessage, OptionRead

PLATFORM = "console"
INBOX_KEY = "questrya:console:inbox:{chat_id}"


class ConsoleSender:
    platform = PLATFORM

    def __init__(self, connection: aioredis.Redis) -> None:
        self._redis = connection

    async def send(self, notification: Notification) -> None:
        key = INBOX_KEY.format(chat_id=notification.address.chat_id)
        await self._redis.hsetnx(key, str(notification.id), json.dumps(_payload(notification)))

    async def aclose(self) -> None:
        """The Redis connection belongs to the caller."""


def _payload(notification: Notification) -> dict[str, object]:
    return {
        "text": notification.text,
        "options": [[option.label, option.command] for option in notification.options],
        "image_url": notification.image_url,
    }


class InboxUnavailable(Exception):
    """Redis cannot be reached, so pushed messages cannot be read now (they wait there)."""


class ConsoleInbox:
    """The console's side: take the messages pushed to one chat, oldest first."""

    def __init__(self, connection: aioredis.Redis) -> None:
        self._redis = connection

    async def take(self, chat_id: str) -> list[InboxMessage]:
        key = INBOX_KEY.format(chat_id=chat_id)
        try:
            waiting = await self._redis.hgetall(key)
            if waiting:
                await self._redis.hdel(key, *waiting)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise InboxUnavailable(str(error)) from error
        return sorted((_message(int(nid), raw) for nid, raw in waiting.items()), key=_by_id)


def _message(notification_id: int, raw: bytes | str) -> InboxMessage:
    payload = json.loads(raw)
    return InboxMessage(
        id=notification_id,
        text=payload["text"],
        options=[OptionRead(label=label, command=command) for label, command in payload["options"]],
        image_url=payload["image_url"],
    )


def _by_id(message: InboxMessage) -> int:
    return message.id
