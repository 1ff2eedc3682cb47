"""A `Reply` as a Discord message: the sender's look (escaped text that pings no one, an embed
for covers and attributions), with buttons that know who may press them."""

from __future__ import annotations

from typing import Any

import discord

from bots.chat import Choice, Reply
from bots.discord.buttons import CommandButton
from questrya.notifications.senders.discord import (
    LABEL_LIMIT,
    NO_MENTIONS,
    button_style,
    custom_id,
    text_fields,
)

__all__ = ["NO_MENTIONS", "message_parts"]


def message_parts(reply: Reply, owner: str, *, editing: bool = False) -> dict[str, Any]:
    """Keyword arguments for send/edit. An edit also clears what the new reply lacks (an
    embed, buttons), so a page without a cover or a next page shows none."""
    parts = text_fields(reply.text, reply.image_url)
    view = choices_view(reply.choices, owner)
    if view is not None:
        parts["view"] = view
    if editing:
        parts.setdefault("embed", None)
        parts.setdefault("view", None)
    return parts


def choices_view(choices: tuple[Choice, ...], owner: str) -> discord.ui.View | None:
    """A button per choice that fits in a custom id; None when there is none.

    The buttons are dynamic items: discord.py routes a press by its custom id alone, so the
    bot keeps nothing per message, and presses work after a restart or on another instance.
    """
    view = discord.ui.View(timeout=None)
    for choice in choices:
        if custom_id(owner, choice.command) is not None:
            label, style = choice.label[:LABEL_LIMIT], button_style(choice.command)
            view.add_item(CommandButton(owner, choice.command, label=label, style=style))
    return view if view.children else None
