"""Pushed messages to Telegram chats through the Bot API, within Telegram's limits.

Limits (https://core.telegram.org/bots/faq): about 30 messages a second overall (29 here), 20 a
minute in one group, and about one a second in one chat, short bursts allowed. They are counted in
Redis, so every worker process shares them. A push about a game follows the bot's answer to
the `/add` that caused it (see telegram_threads.py).
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

import redis.asyncio as aioredis
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from questrya.http_clients import TLS_CONTEXT
from questrya.notifications.domain import Notification
from questrya.notifications.senders.base import ChatGone, DeliveryFailed
from questrya.notifications.senders.rate_limits import SharedRateLimits
from questrya.notifications.senders.telegram_threads import ReplyThreads, Thread

# python-telegram-bot 22 gives RetryAfter.retry_after as a timedelta only when opted in, and
# warns otherwise; the sender reads it either way.
os.environ.setdefault("PTB_TIMEDELTA", "true")

PLATFORM = "telegram"
MAX_RETRY_AFTER_SECONDS = 60
MAX_ATTEMPTS = 4
BACK_OFF_SECONDS = (0.25, 0.5, 1.0)  # between tries after a 5xx or a refused connection
CALLBACK_DATA_LIMIT = 64
BUTTON_LABEL_LIMIT = 64
CAPTION_LIMIT = 1024
ANYONE = "*"  # callback data owner for buttons anyone in the chat may press
GONE_MARKERS = ("chat not found", "bot was kicked", "bot is not a member", "user is deactivated")
PRIVATE_CHAT_LIMIT = "3 per 3 seconds"  # about one a second, a burst of three allowed
GROUP_LIMIT = "20 per minute"
# One under Telegram's 30: a send takes its turn here, Telegram counts it on arrival, and the
# network's jitter between the two would otherwise cost 429s, each a second's wait.
OVERALL_LIMIT = "29 per second"


log = logging.getLogger(__name__)

Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (label, command)


@dataclass(frozen=True)
class Outgoing:
    """One message as the Bot API will get it."""

    chat_id: str
    text: str  # HTML
    markup: InlineKeyboardMarkup | None
    photo: str | None = None
    reply_to: int | None = None


def push_bot(token: str, api_url: str) -> Bot:
    """The Bot a worker pushes with, on the process's TLS context."""
    return Bot(
        token,
        base_url=api_url,
        request=HTTPXRequest(httpx_kwargs={"verify": TLS_CONTEXT}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"verify": TLS_CONTEXT}),
    )


class TelegramSender:
    platform = PLATFORM

    def __init__(self, bot: Bot, connection: aioredis.Redis) -> None:
        self._bot = bot
        self._limits = SharedRateLimits(connection, namespace="telegram")
        self._threads = ReplyThreads(connection)

    async def send(self, notification: Notification) -> None:
        address = notification.address
        thread = await self._threads.recall(address.chat_id, notification.event_key)
        outgoing = compose(notification, thread)
        for attempt in range(MAX_ATTEMPTS):
            await self._limits.wait_for_turn(limits_for(outgoing.chat_id))
            try:
                await self._deliver(outgoing)
                return
            except RetryAfter as error:
                await _wait_out(error)
            except ChatMigrated as error:  # a group became a supergroup, with a new id
                # The answer it followed stays in the old group: the supergroup's messages are
                # numbered anew, and the same id there is some other message or none.
                outgoing = replace(outgoing, chat_id=str(error.new_chat_id), reply_to=None)
            except NetworkError as error:
                await _back_off_or_raise(error, attempt)
            except TelegramError as error:  # 403, or a refused token
                raise _refusal(error) from error
        raise DeliveryFailed(f"Telegram refused the message {MAX_ATTEMPTS} times")

    async def aclose(self) -> None:
        await self._bot.shutdown()

    async def _deliver(self, outgoing: Outgoing) -> Message:
        """The cover with the text as caption; the text alone if Telegram cannot use the cover."""
        reply = _reply_parameters(outgoing.reply_to)
        if outgoing.photo is not None:
            try:
                return await self._bot.send_photo(
                    outgoing.chat_id,
                    outgoing.photo,
                    caption=outgoing.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=outgoing.markup,
                    reply_parameters=reply,
                )
            except BadRequest as error:
                if _is_gone(error):
                    raise
                log.warning("cover refused (%s); sending the text alone", error.message)
        return await self._bot.send_message(
            outgoing.chat_id,
            outgoing.text,
            parse_mode=ParseMode.HTML,
            reply_markup=outgoing.markup,
            reply_parameters=reply,
        )


def compose(notification: Notification, thread: Thread | None) -> Outgoing:
    """The message: escaped text, buttons for its options (only the asker's when known)."""
    owner = thread.owner if thread else ANYONE
    rows = [[(option.label, option.command)] for option in notification.options]
    markup, leftovers = inline_keyboard(rows, owner)
    text = "\n".join([html.escape(notification.text, quote=False), *leftovers])
    photo = notification.image_url if len(text) <= CAPTION_LIMIT else None
    return Outgoing(
        chat_id=notification.address.chat_id,
        text=text,
        markup=markup,
        photo=photo,
        reply_to=thread.message_id if thread else None,
    )


def inline_keyboard(rows: Buttons, owner: str) -> tuple[InlineKeyboardMarkup | None, list[str]]:
    """The keyboard, and (as escaped lines to add to the text) what did not fit in a button:
    callback data is at most 64 bytes, so a long command is offered for typing instead."""
    keyboard: list[list[InlineKeyboardButton]] = []
    leftovers: list[str] = []
    for row in rows:
        buttons = []
        for label, command in row:
            data = encode_button(owner, command)
            if data is None:
                leftovers.append(html.escape(f"{label}: {command}", quote=False))
            else:
                buttons.append(InlineKeyboardButton(label[:BUTTON_LABEL_LIMIT], callback_data=data))
        keyboard += [buttons] if buttons else []
    return (InlineKeyboardMarkup(keyboard) if keyboard else None), leftovers


def encode_button(owner: str, command: str) -> str | None:
    """Callback data `owner|command`, or None when it exceeds Telegram's 64 bytes. The owner is
    the Telegram user id who may press it, or "*" for anyone in the chat."""
    data = f"{owner}|{command}"
    return data if len(data.encode()) <= CALLBACK_DATA_LIMIT else None


def limits_for(chat_id: str) -> list[tuple[str, str]]:
    is_group = chat_id.startswith("-")  # Telegram group and channel ids are negative
    per_chat = GROUP_LIMIT if is_group else PRIVATE_CHAT_LIMIT
    return [(per_chat, f"chat:{chat_id}"), (OVERALL_LIMIT, "all")]


def _reply_parameters(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    # The answer may have been deleted since; the push is still worth sending.
    return ReplyParameters(message_id, allow_sending_without_reply=True)


async def _wait_out(error: RetryAfter) -> None:
    seconds = error.retry_after
    delay = seconds.total_seconds() if not isinstance(seconds, int) else float(seconds)
    if delay > MAX_RETRY_AFTER_SECONDS:
        raise DeliveryFailed(f"Telegram asks to wait {delay:.0f} s") from error
    await asyncio.sleep(delay)


async def _back_off_or_raise(error: NetworkError, attempt: int) -> None:
    """Wait before the next try after a 5xx or a refused connection; raise for the rest."""
    if isinstance(error, BadRequest):
        raise _refusal(error) from error
    if isinstance(error, TimedOut):
        # It may have arrived: trying again at once could post it twice; the job's retry decides.
        raise DeliveryFailed(f"Telegram did not answer in time: {error.message}") from error
    if attempt + 1 >= MAX_ATTEMPTS:
        raise DeliveryFailed(f"Telegram unavailable: {error.message}") from error
    await asyncio.sleep(BACK_OFF_SECONDS[min(attempt, len(BACK_OFF_SECONDS) - 1)])


def _refusal(error: TelegramError) -> Exception:
    """ChatGone when the chat can no longer be reached (403, "chat not found"), else a failure
    the job may retry."""
    if _is_gone(error):
        return ChatGone(error.message)
    return DeliveryFailed(f"Telegram refused the message: {error.message}")


def _is_gone(error: TelegramError) -> bool:
    return isinstance(error, Forbidden) or any(m in error.message.lower() for m in GONE_MARKERS)
