"""A `Reply` as Telegram HTML with an inline keyboard, and buttons that know their owner.

Every piece of text is escaped: titles are whatever players typed. Button data is
`owner|command`; the owner is the user whose command produced the buttons, "*" for anyone.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.chat import Choice, Reply

CALLBACK_DATA_LIMIT = 64
BUTTON_LABEL_LIMIT = 64
CAPTION_LIMIT = 1024
ANYONE = "*"
PAGING_PREFIX = "/backlog"


@dataclass(frozen=True)
class ButtonPress:
    """What a pressed button carries: who may press it, and the command it runs."""

    owner: str
    command: str

    def allows(self, user_id: str) -> bool:
        return self.owner in (ANYONE, user_id)


def encode_button(owner: str, command: str) -> str | None:
    """The callback data for a button, or None when it would exceed Telegram's 64 bytes."""
    data = f"{owner}|{command}"
    return data if len(data.encode()) <= CALLBACK_DATA_LIMIT else None


def decode_button(data: str | None) -> ButtonPress | None:
    """The button a callback carries, or None for data we did not make."""
    owner, separator, command = (data or "").partition("|")
    if not separator or not owner or not command.startswith("/"):
        return None
    return ButtonPress(owner=owner, command=command)


def as_html(reply: Reply) -> str:
    return html.escape(reply.text, quote=False)


def keyboard(reply: Reply, owner: str) -> InlineKeyboardMarkup | None:
    """Paging buttons side by side, other choices one a row; None when there are none."""
    paging = [_button(c, owner) for c in reply.choices if c.command.startswith(PAGING_PREFIX)]
    others = [_button(c, owner) for c in reply.choices if not c.command.startswith(PAGING_PREFIX)]
    rows = [[button] for button in others if button] + [[b for b in paging if b]]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def _button(choice: Choice, owner: str) -> InlineKeyboardButton | None:
    data = encode_button(owner, choice.command)
    if data is None:
        return None
    return InlineKeyboardButton(choice.label[:BUTTON_LABEL_LIMIT], callback_data=data)
