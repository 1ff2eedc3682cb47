"""The provider the settings name, built with its credentials."""

from __future__ import annotations

import redis.asyncio as aioredis

from questrya.metadata.providers.base import MetadataProvider
from questrya.metadata.providers.igdb import IgdbProvider
from questrya.metadata.providers.offline import OfflineCatalog
from questrya.metadata.providers.rawg import RawgProvider
from questrya.settings import Settings


def build_provider(settings: Settings, connection: aioredis.Redis) -> MetadataProvider:
    """`offline`, `rawg` or `igdb`; settings validation already ensured the credentials."""
    if settings.metadata_provider == "rawg" and settings.rawg_api_key:
        return RawgProvider(settings.rawg_api_key.get_secret_value(), settings.rawg_api_url)
    if settings.metadata_provider == "igdb" and settings.igdb_client_secret:
        return IgdbProvider(
            settings.igdb_client_id or "",
            settings.igdb_client_secret.get_secret_value(),
            settings.igdb_api_url,
            token_cache=connection,
        )
    return OfflineCatalog()
