"""Pushed messages to Discord channels over REST only: the bot token, no gateway connection.

One POST /channels/{id}/messages per notification, within limits all worker processes share in
Redis: 50 requests a second for the bot, 5 messages per 5 s in a channel (Discord's). A 429 is
waited out for its `retry_after` and tried again; 403/404 (the bot was removed, the channel
deleted) raise ChatGone so the target is disabled; 5xx, timeouts and long waits raise
DeliveryFailed, and the job's retries take over.

How a message looks is shared with the bot (bots/discord/replies.py): escaped text that pings
no one, an embed with the cover, the facts and the data attribution, and buttons whose custom
id carries the command and who may press it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import discord
import redis.asyncio as aioredis
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route, handle_message_parameters
from discord.utils import escape_markdown

from questrya.common.text import shorten
from questrya.notifications.domain import Notification
from questrya.notifications.senders.base import ChatGone, DeliveryFailed
from questrya.notifications.senders.rate_limits import SharedRateLimits

PLATFORM = "discord"
API_PATH = "/api/v10"
USER_AGENT = "DiscordBot (https://github.com/questrya/questrya, 1.0)"  # the form Discord asks
MAX_ATTEMPTS = 4
MAX_RETRY_AFTER_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 15.0
BOT_LIMIT = ("50/second", "all")
CHANNEL_LIMIT = "5/5 seconds"

NO_MENTIONS = discord.AllowedMentions.none()
CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
ANYONE = "*"  # the owner of buttons anyone in the channel may press
BUTTON_TEMPLATE = re.compile(r"q\|(?P<owner>\*|\d+)\|(?P<command>/.+)", re.DOTALL)
PAGING_PREFIX = "/backlog"
# The attribution line providers add under the facts: "Data: RAWG: https://rawg.io/games/hades".
ATTRIBUTION = re.compile(r"(?P<source>Data: [^:\n]+): (?P<url>https?://\S+)")


class DiscordSender:
    platform = PLATFORM

    def __init__(
        self, token: str, connection: aioredis.Redis | None = None, *, api_url: str | None = None
    ) -> None:
        self._token = token
        self._limits = SharedRateLimits(connection, namespace="discord") if connection else None
        self._api_url = api_url or Route.BASE  # use_discord_endpoints sets it for the process
        self._session: aiohttp.ClientSession | None = None

    async def send(self, notification: Notification) -> None:
        channel_id = notification.address.chat_id
        payload = handle_message_parameters(**message_fields(notification)).payload
        for _ in range(MAX_ATTEMPTS):
            if self._limits is not None:
                await self._limits.wait_for_turn([BOT_LIMIT, (CHANNEL_LIMIT, channel_id)])
            status, body = await self._post(f"/channels/{channel_id}/messages", payload)
            if status < 300:
                return
            if status != 429:
                raise _refusal(status, body)
            await _wait_out(body)
        raise DeliveryFailed("Discord kept answering 429")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(self, path: str, payload: Any) -> tuple[int, Any]:
        if self._session is None:
            headers = {"Authorization": f"Bot {self._token}", "User-Agent": USER_AGENT}
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
            self._session = aiohttp.ClientSession(headers=headers, timeout=timeout)
        try:
            async with self._session.post(self._api_url + path, json=payload) as response:
                return response.status, await _json_or_none(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"Discord unreachable: {type(error).__name__}") from error


async def _json_or_none(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


async def _wait_out(body: Any) -> None:
    retry_after = float(body.get("retry_after", 1.0)) if isinstance(body, dict) else 1.0
    if retry_after > MAX_RETRY_AFTER_SECONDS:
        raise DeliveryFailed(f"Discord asks to wait {retry_after:.0f} s")
    await asyncio.sleep(retry_after)


def _refusal(status: int, body: Any) -> Exception:
    """403/404: the channel is gone for this bot; anything else may work later."""
    details = body if isinstance(body, dict) else {}
    message = f"Discord {status}: {details.get('message', 'no message')} ({details.get('code')})"
    return ChatGone(message) if status in (403, 404) else DeliveryFailed(message)


# -- how a Questrya message looks on Discord (the bot renders its replies the same way) -------


def message_fields(notification: Notification) -> dict[str, Any]:
    """Keyword arguments for discord.py's send: content or embed, buttons, no mentions."""
    fields = text_fields(notification.text, notification.image_url)
    view = discord.ui.View(timeout=None)
    for option in notification.options:
        identifier = custom_id(ANYONE, option.command)
        if identifier is not None:
            label, style = option.label[:LABEL_LIMIT], button_style(option.command)
            view.add_item(discord.ui.Button(label=label, custom_id=identifier, style=style))
    if view.children:
        fields["view"] = view
    return fields


def text_fields(text: str, image_url: str | None) -> dict[str, Any]:
    """Plain escaped content; an embed (cover thumbnail, facts, linked attribution) when
    there is a cover or an attribution to show."""
    attribution = ATTRIBUTION.fullmatch(text.rsplit("\n", 1)[-1])
    if image_url is None and attribution is None:
        content = shorten(escape_markdown(text), CONTENT_LIMIT)
        return {"content": content, "allowed_mentions": NO_MENTIONS}
    facts = text.rsplit("\n", 1)[0] if attribution else text
    lines = [escape_markdown(facts)]
    if attribution:
        lines.append(f"[{escape_markdown(attribution['source'])}]({attribution['url']})")
    embed = discord.Embed(description=shorten("\n".join(lines), DESCRIPTION_LIMIT))
    if image_url:
        embed.set_thumbnail(url=image_url)
    return {"content": None, "embed": embed, "allowed_mentions": NO_MENTIONS}


def custom_id(owner: str, command: str) -> str | None:
    """`q|owner|command`, or None when it exceeds Discord's 100 characters."""
    value = f"q|{owner}|{command}"
    return value if len(value) <= CUSTOM_ID_LIMIT else None


def button_style(command: str) -> discord.ButtonStyle:
    """Paging buttons are grey; answers ("did you mean") blue."""
    if command.startswith(PAGING_PREFIX):
        return discord.ButtonStyle.secondary
    return discord.ButtonStyle.primary


def use_discord_endpoints(api_url: str | None, gateway_url: str | None) -> None:
    """Send REST calls and the gateway connection through a proxy instead of Discord's own.

    discord.py reads both from class attributes, so this is process-wide, set once at start.
    A URL without a path (http://proxy:8080) gets Discord's /api/v10.
    """
    if api_url:
        Route.BASE = api_base(api_url)
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def api_base(api_url: str) -> str:
    url = api_url.rstrip("/")
    return url if yarl.URL(url).path not in ("", "/") else url + API_PATH
