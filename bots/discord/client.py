"""The bot client: commands and buttons registered at set-up, synced globally or to one server."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bots.chat import ChatRouter
from bots.discord.buttons import CommandButton
from bots.discord.commands import register_commands
from bots.discord.replies import NO_MENTIONS

log = logging.getLogger(__name__)


class QuestryaBot(discord.Client):
    """A client without privileged intents: slash commands need none."""

    def __init__(self, router: ChatRouter, *, sync_guild_id: int | None = None) -> None:
        super().__init__(intents=discord.Intents.default(), allowed_mentions=NO_MENTIONS)
        self.router = router
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self)
        self._sync_guild = discord.Object(sync_guild_id) if sync_guild_id else None

    async def setup_hook(self) -> None:
        register_commands(self.tree, self.router)
        self.add_dynamic_items(CommandButton)
        if self._sync_guild is not None:
            self.tree.copy_global_to(guild=self._sync_guild)
        synced = await self.tree.sync(guild=self._sync_guild)
        where = f"server {self._sync_guild.id}" if self._sync_guild else "globally"
        log.info("synced %d commands %s", len(synced), where)
