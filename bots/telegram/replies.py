"""A `Reply` as Telegram HTML with an inline keyboard, and buttons that know their owner.

Every piece of text is escaped: titles are whatever players typed. Button data is
`owner|command` (made by the notification sender's `encode_button`, so the bot's answers and
the workers' pushes agree); the owner is the user whose command produced the buttons, "*" for
anyone. A choice whose command does not fit in Telegram's 64 bytes is written out to type.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from bots.chat import Reply
from questrya.notifications.senders.telegram import (
    ANYONE,
    CAPTION_LIMIT,
    encode_button,
    inline_keyboard,
)

__all__ = [
    "ANYONE",
    "CAPTION_LIMIT",
    "ButtonPress",
    "Rendered",
    "decode_button",
    "encode_button",
    "render",
]

PAGING_PREFIX = "/backlog"


@dataclass(frozen=True)
class ButtonPress:
    """What a pressed button carries: who may press it, and the command it runs."""

    owner: str
    command: str

    @property
    def is_shared(self) -> bool:
        """Anyone in the chat may press it (buttons under pushes whose asker is unknown)."""
        return self.owner == ANYONE

    def allows(self, user_id: str) -> bool:
        return self.is_shared or self.owner == user_id


@dataclass(frozen=True)
class Rendered:
    """A reply as the Bot API takes it: HTML text and an optional inline keyboard."""

    html: str
    markup: InlineKeyboardMarkup | None
    photo: str | None


def decode_button(data: str | None) -> ButtonPress | None:
    """The button a callback carries, or None for data we did not make."""
    owner, separator, command = (data or "").partition("|")
    if not separator or not owner or not command.startswith("/"):
        return None
    if owner != ANYONE and not owner.isdigit():
        return None
    return ButtonPress(owner=owner, command=command)


def render(reply: Reply, owner: str) -> Rendered:
    """Other choices one a row, then the paging buttons side by side."""
    others = [[(c.label, c.command)] for c in reply.choices if not _is_paging(c.command)]
    paging = [(c.label, c.command) for c in reply.choices if _is_paging(c.command)]
    markup, leftovers = inline_keyboard([*others, paging], owner)
    text = "\n".join([_escaped(reply.text), *leftovers])
    photo = reply.image_url if reply.image_url and len(text) <= CAPTION_LIMIT else None
    return Rendered(text, markup, photo)


def _is_paging(command: str) -> bool:
    return command.startswith(PAGING_PREFIX)


def _escaped(text: str) -> str:
    return html.escape(text, quote=False)
