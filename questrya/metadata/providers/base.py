"""The interface every games database implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from questrya.metadata.domain import GameFacts


class ProviderError(Exception):
    """The provider failed in a way worth retrying later (timeout, 5xx, 429)."""


class ProviderUnavailable(ProviderError):
    """The provider refuses us for good until an operator acts (bad key, 401 after refresh)."""


class MetadataProvider(Protocol):
    """A games database. Implementations hold an httpx client with timeouts and are async."""

    name: str
    attribution: str  # shown next to facts, e.g. "Data: RAWG"

    async def search(self, title: str, *, limit: int = 10) -> Sequence[GameFacts]:
        """Games whose title resembles `title`, best first, with the facts the search gives."""
        ...

    async def details(self, source_id: str) -> GameFacts | None:
        """Every fact the provider has about one game, or None if it no longer exists."""
        ...

    async def critic_scores(self, source_ids: Sequence[str]) -> dict[str, int | None]:
        """Current critic scores of many games, in as few requests as the API allows."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client."""
        ...
