"""The senders this worker can use: the console always, chat platforms when configured.

A platform's client library is imported only where its token is set: python-telegram-bot and
discord.py (with aiohttp) are tens of MiB in every process that imports them.
"""

from __future__ import annotations

import importlib

import redis.asyncio as aioredis

from questrya.notifications.senders.base import Sender
from questrya.notifications.senders.console import ConsoleSender
from questrya.settings import Settings

TELEGRAM_SENDER = "questrya.notifications.senders.telegram"
DISCORD_SENDER = "questrya.notifications.senders.discord"


def build_senders(settings: Settings, connection: aioredis.Redis) -> dict[str, Sender]:
    senders: list[Sender] = [ConsoleSender(connection)]
    if settings.discord_token:
        from questrya.notifications.senders import discord

        discord.use_discord_endpoints(settings.discord_api_url, settings.discord_gateway_url)
        senders.append(discord.DiscordSender(settings.discord_token.get_secret_value(), connection))
    if settings.telegram_token:
        from questrya.notifications.senders.telegram import TelegramSender, push_bot

        bot = push_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_url)
        senders.append(TelegramSender(bot, connection))
    return {sender.platform: sender for sender in senders}


def preload_senders(settings: Settings) -> None:
    """Import the configured platforms' senders now (before a worker forks its work horses)."""
    for module, token in (
        (DISCORD_SENDER, settings.discord_token),
        (TELEGRAM_SENDER, settings.telegram_token),
    ):
        if token:
            importlib.import_module(module)
