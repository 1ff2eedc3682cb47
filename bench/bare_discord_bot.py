"""The baseline bench_discord measures the Discord bot against: a bare discord.py bot with one
slash command, /echo, that answers with the text it was given.

    python -m bench.bare_discord_bot

It reads the fake server from QUESTRYA_DISCORD_TOKEN, QUESTRYA_DISCORD_API_URL and
QUESTRYA_DISCORD_GATEWAY_URL, as `questrya discord` does, syncs its command globally, and runs
until SIGTERM or SIGINT. Keep it bare: discord.py's defaults (default intents, no logging set
up), one command, one callback per interaction. It is what the same library, the same gateway
and the same server cost on their own.
"""

from __future__ import annotations

import asyncio
import os
import signal

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

TOKEN_VARIABLE = "QUESTRYA_DISCORD_TOKEN"  # noqa: S105 - a variable's name
API_URL_VARIABLE = "QUESTRYA_DISCORD_API_URL"
GATEWAY_URL_VARIABLE = "QUESTRYA_DISCORD_GATEWAY_URL"


class EchoBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        @self.tree.command(description="Say it back")
        async def echo(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(text)

        await self.tree.sync()


async def main() -> None:
    Route.BASE = os.environ[API_URL_VARIABLE].rstrip("/") + "/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ[GATEWAY_URL_VARIABLE])
    bot = EchoBot()
    stop = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signal_number, stop.set)
    async with bot:
        running = asyncio.create_task(bot.start(os.environ[TOKEN_VARIABLE]))
        await stop.wait()
        await bot.close()
        await running


if __name__ == "__main__":
    asyncio.run(main())
