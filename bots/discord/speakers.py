"""Who is speaking, in which channel."""

from __future__ import annotations

import discord

from bots.chat import Speaker

PLATFORM = "discord"


def speaker_of(interaction: discord.Interaction) -> Speaker:
    """The player and channel of an interaction; in a server, "Manage Server" makes an admin."""
    user = interaction.user
    in_server = interaction.guild_id is not None

    async def manages_server() -> bool:
        return interaction.permissions.manage_guild

    return Speaker(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.display_name,
        chat_id=str(interaction.channel_id),
        is_group=in_server,
        admin_check=manages_server if in_server else None,
    )


def voter_of(member: discord.Member, channel_id: int) -> Speaker:
    """The speaker of a tap on a poll in a server channel: the member as the server knows them
    (their name there, their permissions)."""

    async def manages_server() -> bool:
        return member.guild_permissions.manage_guild

    return Speaker(
        platform=PLATFORM,
        user_id=str(member.id),
        display_name=member.display_name,
        chat_id=str(channel_id),
        is_group=True,
        admin_check=manages_server,
    )
