"""The senders this worker can use: the console always, chat platforms when configured."""

from __future__ import annotations

import redis.asyncio as aioredis

from questrya.notifications.senders.base import Sender
from questrya.notifications.senders.console import ConsoleSender
from questrya.settings import Settings


def build_senders(settings: Settings, connection: aioredis.Redis) -> dict[str, Sender]:
    senders: list[Sender] = [ConsoleSender(connection)]
    return {sender.platform: sender for sender in senders}
