"""Pushed messages to Discord channels over REST only: the bot token, no gateway connection.

discord.py's HTTP client keeps Discord's per-route buckets and waits out 429s (retry_after);
what it finally refuses becomes ChatGone (403/404: the channel is gone or the bot removed) or
DeliveryFailed (worth retrying later).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.utils import escape_markdown

from questrya.notifications.domain import Notification
from questrya.notifications.senders.base import ChatGone, DeliveryFailed

PLATFORM = "discord"
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
ANYONE = "*"


class DiscordSender:
    platform = PLATFORM

    def __init__(self, token: str) -> None:
        self._token = token
        self._client = discord.Client(
            intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none()
        )

    async def send(self, notification: Notification) -> None:
        try:
            if not self._client.is_ready() and self._client.user is None:
                await self._client.login(self._token)
            channel = self._client.get_partial_messageable(int(notification.address.chat_id))
            await channel.send(**_message(notification))
        except (discord.Forbidden, discord.NotFound) as error:
            raise ChatGone(f"Discord {error.status}: {error.text}") from error
        except (discord.HTTPException, aiohttp.ClientError) as error:
            raise DeliveryFailed(f"Discord unavailable: {error}") from error

    async def aclose(self) -> None:
        await self._client.close()


def _message(notification: Notification) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "content": escape_markdown(notification.text),
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if notification.image_url:
        parts["embed"] = discord.Embed().set_thumbnail(url=notification.image_url)
    view = discord.ui.View(timeout=None)
    for option in notification.options:
        custom_id = f"q|{ANYONE}|{option.command}"
        if len(custom_id) <= CUSTOM_ID_LIMIT:
            view.add_item(discord.ui.Button(label=option.label[:LABEL_LIMIT], custom_id=custom_id))
    if view.children:
        parts["view"] = view
    return parts


def use_discord_endpoints(api_url: str | None, gateway_url: str | None) -> None:
    """Send REST calls and the gateway connection through a proxy instead of Discord's own.

    discord.py reads both from class attributes, so this is process-wide, set once at start.
    """
    if api_url:
        Route.BASE = api_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
