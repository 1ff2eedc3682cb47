"""Running the Discord bot against a wired application."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
import discord

from bots.chat import build_router
from bots.discord.client import QuestryaBot
from bots.discord.polls import PollVotes
from bots.discord.speakers import PLATFORM
from questrya.notifications.senders.discord import use_discord_endpoints
from questrya.notifications.senders.poll_chats import PollChats

if TYPE_CHECKING:
    from questrya.bootstrap import App

LOGIN_REFUSED = (
    "Discord refused QUESTRYA_DISCORD_TOKEN: copy the bot's token again from the Developer "
    "Portal (Bot → Reset Token)."
)


async def run_discord(app: App) -> None:
    """Connect to the gateway (or the proxy in settings) and serve until stopped."""
    settings = app.settings
    if settings.discord_token is None:
        raise click.ClickException("QUESTRYA_DISCORD_TOKEN is not set")
    use_discord_endpoints(settings.discord_api_url, settings.discord_gateway_url)
    router = build_router(app.uow_factory)
    poll_chats = PollChats.connect(app.redis_url, PLATFORM)
    bot = QuestryaBot(
        router, PollVotes(router, poll_chats), sync_guild_id=settings.discord_guild_id
    )
    try:
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        raise click.ClickException(LOGIN_REFUSED) from None
    finally:
        await poll_chats.aclose()
