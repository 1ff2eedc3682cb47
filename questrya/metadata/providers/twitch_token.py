"""The Twitch app access token IGDB wants, shared by every worker through Redis.

Twitch hands out tokens by the client-credentials grant; each lives about two months, and
fetching one per worker or per job would be wasteful, so one is kept in Redis until shortly
before it expires. The token and the secret are never put in a message or a log.
"""

from __future__ import annotations

import asyncio

import httpx
from redis.asyncio import Redis

from questrya.metadata.providers.base import ProviderUnavailable
from questrya.metadata.providers.http import hide_in_client_logs, read_json, send

TWITCH_TOKEN_URL = "https://id.twitch.tv/oauth2/token"  # noqa: S105 (a URL, no secret)
TOKEN_CACHE_KEY = "questrya:igdb:token:{client_id}"  # noqa: S105 (a key name)
# Drop the cached token this long before Twitch says it expires, so no request carries a
# token that dies on the way.
TOKEN_EXPIRY_MARGIN_SECONDS = 300
PROVIDER_NAME = "igdb"


class TwitchAppToken:
    """The current app access token for one Twitch client id."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        cache: Redis,
        client: httpx.AsyncClient,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = token_url
        self._cache = cache
        self._cache_key = TOKEN_CACHE_KEY.format(client_id=client_id)
        self._client = client
        # Requests started together on a cold cache must not each fetch a token.
        self._fetching = asyncio.Lock()
        hide_in_client_logs(client_secret)

    async def current(self) -> str:
        """The shared token, fetched from Twitch if no worker holds one yet."""
        cached = await self._cached()
        if cached:
            return cached
        async with self._fetching:
            return await self._cached() or await self._fetch_and_store()

    async def replace(self, rejected: str) -> str:
        """A token other than `rejected`, which IGDB refused: one another worker has just
        fetched, or a new one."""
        async with self._fetching:
            cached = await self._cached()
            if cached and cached != rejected:
                return cached
            return await self._fetch_and_store()

    async def _cached(self) -> str | None:
        value = await self._cache.get(self._cache_key)
        return value.decode() if isinstance(value, bytes) else value

    async def _fetch_and_store(self) -> str:
        # The form body rather than the query string: a URL with the secret in it ends up
        # in proxies' and clients' logs.
        request = self._client.build_request(
            "POST",
            self._token_url,
            data={
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "grant_type": "client_credentials",
            },
        )
        response = await send(PROVIDER_NAME, self._client, request)
        if response.is_client_error and response.status_code != httpx.codes.TOO_MANY_REQUESTS:
            # Twitch answers 400 or 403 to an unknown client id or a wrong secret.
            raise ProviderUnavailable(
                f"{PROVIDER_NAME}: Twitch refused the client id and secret "
                f"({response.status_code}): check them"
            )
        grant = read_json(PROVIDER_NAME, response)
        token = str(grant["access_token"])
        lifetime = int(grant["expires_in"]) - TOKEN_EXPIRY_MARGIN_SECONDS
        await self._cache.set(self._cache_key, token, ex=max(lifetime, 1))
        return token
