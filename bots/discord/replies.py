"""A `Reply` as a Discord message: the sender's look (escaped text that pings no one, an embed
for covers and attributions), with buttons that know who may press them, and a native poll
when the reply opens a vote."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord

from bots.chat import Choice, Reply
from bots.discord.buttons import CommandButton
from bots.messages import Poll
from questrya.common.text import shorten
from questrya.notifications.senders.discord import (
    LABEL_LIMIT,
    NO_MENTIONS,
    button_style,
    custom_id,
    text_fields,
)

__all__ = ["NO_MENTIONS", "carries_poll", "message_parts", "native_poll", "poll_part"]

# Tonight's vote stays open for the evening; Discord counts a poll's duration in whole hours.
POLL_DURATION = timedelta(hours=4)
POLL_QUESTION_LIMIT = 300
POLL_ANSWER_LIMIT = 55
POLL_ANSWERS_LIMIT = 10


def message_parts(reply: Reply, owner: str, *, editing: bool = False) -> dict[str, Any]:
    """Keyword arguments for send/edit. An edit also clears what the new reply lacks (an
    embed, buttons), so a page without a cover or a next page shows none. A poll goes only
    into a new message: Discord cannot edit one into a message that is there already."""
    parts = text_fields(reply.text, reply.image_url)
    view = choices_view(reply.choices, owner)
    if view is not None:
        parts["view"] = view
    if editing:
        parts.setdefault("embed", None)
        parts.setdefault("view", None)
    else:
        parts |= poll_part(reply)
    return parts


def poll_part(reply: Reply) -> dict[str, discord.Poll]:
    """`{"poll": …}` for a reply that opens a vote, else nothing. Also for the edit that fills
    a deferred answer in: the one edit Discord lets add a poll."""
    poll = reply.poll
    return {"poll": native_poll(poll)} if poll is not None and poll.options else {}


def carries_poll(reply: Reply) -> bool:
    """Whether the reply's message carries a poll: a vote with something to vote on."""
    return bool(poll_part(reply))


def native_poll(poll: Poll) -> discord.Poll:
    """The vote as a Discord poll: one answer each, within Discord's limits (the numbers of
    /vote still match: answers beyond the tenth are left out, not merged)."""
    question = shorten(poll.question, POLL_QUESTION_LIMIT)
    native = discord.Poll(question=question, duration=POLL_DURATION, multiple=False)
    for option in poll.options[:POLL_ANSWERS_LIMIT]:
        native.add_answer(text=shorten(option, POLL_ANSWER_LIMIT))
    return native


def choices_view(choices: tuple[Choice, ...], owner: str) -> discord.ui.View | None:
    """A button per choice that fits in a custom id; None when there is none.

    The buttons are dynamic items: discord.py routes a press by its custom id alone, so the
    bot keeps nothing per message, and presses work after a restart or on another instance.
    """
    if not choices:
        return None  # most replies: no View to build (each one is a few objects and a future)
    view = discord.ui.View(timeout=None)
    for choice in choices:
        if custom_id(owner, choice.command) is not None:
            label, style = choice.label[:LABEL_LIMIT], button_style(choice.command)
            view.add_item(CommandButton(owner, choice.command, label=label, style=style))
    return view if view.children else None
