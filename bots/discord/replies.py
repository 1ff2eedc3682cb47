"""A `Reply` as a Discord message: escaped text, an embed for covers, buttons that know their
owner. Mentions are never allowed, so "@everyone" in a title pings no one."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord.utils import escape_markdown

from bots.chat import Choice, Reply

CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
ANYONE = "*"
BUTTON_PREFIX = "q"
BUTTON_TEMPLATE = re.compile(r"q\|(?P<owner>\*|\d+)\|(?P<command>/.+)", re.DOTALL)
PAGING_PREFIX = "/backlog"
NO_MENTIONS = discord.AllowedMentions.none()


def custom_id(owner: str, command: str) -> str | None:
    """`q|owner|command`, or None when it exceeds Discord's 100 characters."""
    value = f"{BUTTON_PREFIX}|{owner}|{command}"
    return value if len(value) <= CUSTOM_ID_LIMIT else None


def message_parts(reply: Reply, owner: str) -> dict[str, Any]:
    """Keyword arguments for send/edit: content, embed (with the cover), view."""
    content = escape_markdown(reply.text)
    parts: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
    if reply.image_url:
        parts["embed"] = discord.Embed().set_thumbnail(url=reply.image_url)
    view = choices_view(reply.choices, owner)
    if view is not None:
        parts["view"] = view
    return parts


def choices_view(choices: tuple[Choice, ...], owner: str) -> discord.ui.View | None:
    """Buttons for the choices; paging ones are grey, the others blue. None when empty."""
    view = discord.ui.View(timeout=None)
    for choice in choices:
        identifier = custom_id(owner, choice.command)
        if identifier is None:
            continue
        style = (
            discord.ButtonStyle.secondary
            if choice.command.startswith(PAGING_PREFIX)
            else discord.ButtonStyle.primary
        )
        label = choice.label[:LABEL_LIMIT]
        view.add_item(discord.ui.Button(label=label, custom_id=identifier, style=style))
    return view if view.children else None
