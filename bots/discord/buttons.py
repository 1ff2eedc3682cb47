"""Buttons that survive restarts and work on any instance: the command and who may press it
ride in the custom id (`q|owner|command`), and a dynamic item turns a press back into them."""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

from questrya.notifications.senders.discord import ANYONE, BUTTON_TEMPLATE

NOT_YOURS = "This button belongs to someone else's message."


@runtime_checkable
class PressHandler(Protocol):
    """The client that answers presses (QuestryaBot)."""

    async def on_command_button(
        self, interaction: discord.Interaction, owner: str, command: str
    ) -> None: ...


class CommandButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """A `q|owner|command` button: the owner (anyone, for "*") runs the command."""

    def __init__(
        self,
        owner: str,
        command: str,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=style, custom_id=f"q|{owner}|{command}"
        )
        super().__init__(button)
        self.owner = owner
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CommandButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["owner"], match["command"], label=label)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Others get an ephemeral "not yours"; the message stays as it is."""
        if self.owner in (ANYONE, str(interaction.user.id)):
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        if not isinstance(client, PressHandler):
            raise TypeError("the Discord client does not answer Questrya buttons")
        await client.on_command_button(interaction, self.owner, self.command)
