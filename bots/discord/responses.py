"""Answering an interaction: at once when the answer is quick, deferred when it may not be."""

from __future__ import annotations

import asyncio

import discord

from bots.chat import Reply
from bots.discord.replies import message_parts

# Discord drops an interaction not answered within 3 s; past this, defer and follow up.
DEFER_AFTER_SECONDS = 2.0


async def answer(
    interaction: discord.Interaction, work: asyncio.Future[Reply], *, public: bool
) -> None:
    """Send the reply `work` produces; personal answers in servers are ephemeral."""
    ephemeral = interaction.guild_id is not None and not public
    owner = str(interaction.user.id)
    done, _ = await asyncio.wait({work}, timeout=DEFER_AFTER_SECONDS)
    if done:
        parts = message_parts(work.result(), owner)
        await interaction.response.send_message(**parts, ephemeral=ephemeral)
        return
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    await interaction.followup.send(**message_parts(await work, owner), ephemeral=ephemeral)


async def answer_error(interaction: discord.Interaction, text: str) -> None:
    """One line, only to the player, whether or not the interaction was answered already."""
    no_mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=no_mentions)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_mentions)
