"""The interface of a platform sender, and how it reports failures."""

from __future__ import annotations

from typing import Protocol

from questrya.notifications.domain import Notification


class ChatGone(Exception):
    """The chat can no longer be reached (bot removed, blocked, channel deleted): stop."""


class DeliveryFailed(Exception):
    """A failure worth retrying later (5xx, timeouts, a 429 longer than we wait in-line)."""


class Sender(Protocol):
    """Delivers notifications to chats of one platform."""

    platform: str

    async def send(self, notification: Notification) -> None:
        """Deliver it, waiting out short rate limits; raise ChatGone or DeliveryFailed."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
