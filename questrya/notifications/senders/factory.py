"""The senders this worker can use: the console always, chat platforms when configured."""

from __future__ import annotations

import redis.asyncio as aioredis
from telegram import Bot

from questrya.notifications.senders.base import Sender
from questrya.notifications.senders.console import ConsoleSender
from questrya.notifications.senders.discord import DiscordSender, use_discord_endpoints
from questrya.notifications.senders.telegram import TelegramSender
from questrya.settings import Settings


def build_senders(settings: Settings, connection: aioredis.Redis) -> dict[str, Sender]:
    senders: list[Sender] = [ConsoleSender(connection)]
    if settings.discord_token:
        use_discord_endpoints(settings.discord_api_url, settings.discord_gateway_url)
        senders.append(DiscordSender(settings.discord_token.get_secret_value(), connection))
    if settings.telegram_token:
        bot = Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url)
        senders.append(TelegramSender(bot, connection))
    return {sender.platform: sender for sender in senders}
