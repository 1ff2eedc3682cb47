"""Which Telegram updates the bot has handled, shared through Redis by every bot process.

Telegram delivers an update again until the bot confirms it: a long poll confirms every update
before its offset, a webhook call is confirmed by a 2xx answer. The bot confirms only once it
has handled an update (bots/telegram/polling.py and webhook.py), so a bot killed mid-batch is
given the batch again after its restart. To tell what it already did, it claims each update
before handling it and marks it handled once its answer is sent:

- not seen: handle it;
- claimed and never marked: the handler did not finish. Either its process died (a restarted
  poller finishes it), or it is still running in another instance behind the webhook (Telegram
  is asked to try again later, by which time it is handled, or its claim has lapsed: a claim
  is renewed while its handler runs, and lapses seconds after its process died);
- handled: drop it.

Handled marks outlive Telegram's 24 hours of keeping an unconfirmed update. A record that cannot
be read or written (Redis down) lets the update through: answering twice after a crash during
an outage is better than not answering at all while Redis is away.

This lives beside the other notes the Telegram bot keeps in Redis (reply threads, poll chats):
the adapter reaches storage only through the core.
"""

from __future__ import annotations

import enum
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

KEY_PREFIX = "questrya:telegram:update"
HANDLED_SECONDS = 25 * 3600  # Telegram keeps an unconfirmed update for 24 hours
# A claim lapses this long after its handler stopped renewing it (its process died), so that
# Telegram's next tries reach an instance that can handle the update; a running handler renews
# it every CLAIM_RENEWAL_SECONDS, however long it takes.
CLAIM_SECONDS = 10
CLAIM_RENEWAL_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 2.0
CLAIMED = b"claimed"
HANDLED = b"handled"

log = logging.getLogger(__name__)


class Seen(enum.Enum):
    """What the record says of an update that has just arrived."""

    NEW = "new"
    UNFINISHED = "unfinished"
    HANDLED = "handled"


class HandledUpdates:
    """Claims and handled marks of one bot's updates (update ids count per bot; `bot_id` is
    the public part of its token, before the colon)."""

    def __init__(self, connection: aioredis.Redis, bot_id: str) -> None:
        self._connection = connection
        self._bot_id = bot_id

    @classmethod
    def connect(cls, redis_url: str, bot_id: str) -> HandledUpdates:
        return cls(
            aioredis.Redis.from_url(redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS),
            bot_id,
        )

    async def claim(self, update_id: int) -> Seen:
        """Claim the update for this handler, unless it was claimed or handled before."""
        key = self._key(update_id)
        try:
            if await self._connection.set(key, CLAIMED, nx=True, ex=CLAIM_SECONDS):
                return Seen.NEW
            state = await self._connection.get(key)
        except RedisError as error:
            log.warning("could not check update %s, handling it: %s", update_id, error)
            return Seen.NEW
        if state == HANDLED:
            return Seen.HANDLED
        return Seen.UNFINISHED if state is not None else await self.claim(update_id)

    async def renew(self, update_id: int) -> None:
        """Keep the claim of an update being handled; also how a restarted poller takes over
        an update a dead process left unfinished."""
        await self._write(update_id, CLAIMED, CLAIM_SECONDS)

    async def mark_handled(self, update_id: int) -> None:
        await self._write(update_id, HANDLED, HANDLED_SECONDS)

    async def aclose(self) -> None:
        await self._connection.aclose()

    async def _write(self, update_id: int, state: bytes, seconds: int) -> None:
        try:
            await self._connection.set(self._key(update_id), state, ex=seconds)
        except RedisError as error:
            log.warning("could not note update %s as %s: %s", update_id, state.decode(), error)

    def _key(self, update_id: int) -> str:
        return f"{KEY_PREFIX}:{self._bot_id}:{update_id}"
