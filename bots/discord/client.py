"""The bot client: commands and buttons registered at set-up, synced globally or to one server."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bots.chat import ChatRouter
from bots.discord.buttons import CommandButton
from bots.discord.commands import register_commands
from bots.discord.polls import PollVotes
from bots.discord.replies import NO_MENTIONS
from bots.discord.responses import answer_press, report_failure
from bots.discord.speakers import speaker_of

log = logging.getLogger(__name__)
# Commands are offered in servers and in the bot's DMs; the app is installed to servers.
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True)
INSTALLS = app_commands.AppInstallationType(guild=True)


class QuestryaBot(discord.Client):
    """A client without privileged intents: slash commands, buttons and poll votes need none."""

    def __init__(
        self, router: ChatRouter, polls: PollVotes, *, sync_guild_id: int | None = None
    ) -> None:
        super().__init__(intents=discord.Intents.default(), allowed_mentions=NO_MENTIONS)
        self.router = router
        self.polls = polls
        self.tree: app_commands.CommandTree[QuestryaBot] = app_commands.CommandTree(
            self, allowed_contexts=CONTEXTS, allowed_installs=INSTALLS
        )
        self._sync_guild = discord.Object(sync_guild_id) if sync_guild_id else None

    async def setup_hook(self) -> None:
        register_commands(self.tree, self.router, self.polls)
        self.add_dynamic_items(CommandButton)
        if self._sync_guild is not None:
            self.tree.copy_global_to(guild=self._sync_guild)
        synced = await self.tree.sync(guild=self._sync_guild)
        where = f"to server {self._sync_guild.id}" if self._sync_guild else "globally"
        log.info("synced %d commands %s", len(synced), where)

    async def on_command_button(
        self, interaction: discord.Interaction, owner: str, command: str
    ) -> None:
        """A press on a Questrya button: run its command for the presser (see buttons.py)."""
        try:
            work = self.router.handle_text(speaker_of(interaction), command)
            await self.polls.answer(answer_press(interaction, owner, work), interaction.channel_id)
        except Exception as error:  # the one handler: logged, and the player told
            await report_failure(interaction, error)

    async def on_raw_poll_vote_add(self, vote: discord.RawPollVoteActionEvent) -> None:
        """A tap on a poll in a channel the bot can see; only its own polls count."""
        guild = self.get_guild(vote.guild_id) if vote.guild_id is not None else None
        if guild is None:
            return  # a DM poll: /tonight opens none there
        try:
            await self.polls.count(vote, guild)
        except Exception:  # no player waits on a tap: logged, and the bot goes on
            log.exception("counting a tap on poll %s failed", vote.message_id)
