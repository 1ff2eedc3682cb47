"""Buttons that survive restarts and work on any instance: the command rides in the custom id,
and a dynamic item turns a press back into that command."""

from __future__ import annotations

import re
from typing import Any

import discord

from bots.chat import ChatRouter
from bots.discord.replies import BUTTON_TEMPLATE, message_parts
from bots.discord.speakers import speaker_of

NOT_YOURS = "This button belongs to someone else's message."


def router_of(interaction: discord.Interaction) -> ChatRouter:
    """The router of the bot that received the interaction (QuestryaBot keeps it)."""
    router = getattr(interaction.client, "router", None)
    if not isinstance(router, ChatRouter):
        raise TypeError("the Discord client has no Questrya router")
    return router


class CommandButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """A pressed `q|owner|command` button: the owner (or anyone, for "*") runs the command,
    and the answer replaces the message the button was on."""

    def __init__(self, owner: str, command: str) -> None:
        super().__init__(discord.ui.Button(label="…", custom_id=f"q|{owner}|{command}"))
        self.owner = owner
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CommandButton:
        return cls(match["owner"], match["command"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.owner not in ("*", str(interaction.user.id)):
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        reply = await router_of(interaction).handle_text(speaker_of(interaction), self.command)
        await interaction.response.edit_message(**message_parts(reply, str(interaction.user.id)))
