"""Platform rate limits shared by every worker process, counted in Redis by `limits`."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

MIN_WAIT_SECONDS = 0.02
MAX_WAIT_SECONDS = 1.0


class SharedRateLimits:
    """Waits until a send fits every limit that applies to it; the counts live in Redis, so
    all the workers of a deployment share them."""

    def __init__(self, connection: aioredis.Redis, namespace: str) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            # limits types its options narrowly, but hands them to redis-py, which takes a pool.
            connection_pool=connection.connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._namespace = namespace

    async def wait_for_turn(self, limits: list[tuple[str, str]]) -> None:
        """Block until one more send fits each (limit, key), e.g. ("30/second", "all")."""
        for limit_text, key in limits:
            await self._acquire(parse(limit_text), key)

    async def _acquire(self, limit: RateLimitItem, key: str) -> None:
        while not await self._limiter.hit(limit, self._namespace, key):
            reset_at, _ = await self._limiter.get_window_stats(limit, self._namespace, key)
            wait = min(max(reset_at - time.time(), MIN_WAIT_SECONDS), MAX_WAIT_SECONDS)
            await asyncio.sleep(wait)
