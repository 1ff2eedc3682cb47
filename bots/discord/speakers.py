"""Who is speaking, in which channel."""

from __future__ import annotations

import discord

from bots.chat import Speaker

PLATFORM = "discord"


def speaker_of(interaction: discord.Interaction) -> Speaker:
    user = interaction.user
    return Speaker(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.display_name,
        chat_id=str(interaction.channel_id),
        is_group=interaction.guild_id is not None,
    )
