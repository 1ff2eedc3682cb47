"""Pushed messages to Telegram chats through the Bot API, within Telegram's limits.

Limits (https://core.telegram.org/bots/faq): about 30 messages a second overall, 20 a minute
in one group, and about one a second in one chat. They are shared across worker processes.
"""

from __future__ import annotations

import asyncio
import html
import os

import redis.asyncio as aioredis
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from questrya.notifications.domain import Notification
from questrya.notifications.senders.base import ChatGone, DeliveryFailed
from questrya.notifications.senders.rate_limits import SharedRateLimits

# python-telegram-bot 22 gives RetryAfter.retry_after as a timedelta only when opted in, and
# warns otherwise; the sender reads it either way.
os.environ.setdefault("PTB_TIMEDELTA", "true")

PLATFORM = "telegram"
MAX_RETRY_AFTER_SECONDS = 60
MAX_ATTEMPTS = 4
CALLBACK_DATA_LIMIT = 64
ANYONE = "*"  # callback data owner for buttons anyone in the chat may press
CAPTION_LIMIT = 1024
GONE_MARKERS = ("chat not found", "bot was kicked", "bot is not a member", "user is deactivated")


class TelegramSender:
    platform = PLATFORM

    def __init__(self, bot: Bot, connection: aioredis.Redis) -> None:
        self._bot = bot
        self._limits = SharedRateLimits(connection, namespace="telegram")

    async def send(self, notification: Notification) -> None:
        for _ in range(MAX_ATTEMPTS):
            await self._limits.wait_for_turn(_limits_for(notification.address.chat_id))
            try:
                await self._deliver(notification)
                return
            except RetryAfter as error:
                await _wait_out(error)
            except (Forbidden, BadRequest) as error:
                _raise_if_gone(error)
                raise DeliveryFailed(f"Telegram refused the message: {error.message}") from error
            except NetworkError as error:  # 5xx and timeouts: the job's retries take over
                raise DeliveryFailed(f"Telegram unavailable: {error.message}") from error
        raise DeliveryFailed("Telegram kept answering 429")

    async def aclose(self) -> None:
        await self._bot.shutdown()

    async def _deliver(self, notification: Notification) -> Message:
        text = html.escape(notification.text, quote=False)
        markup = keyboard(notification)
        chat_id = notification.address.chat_id
        if notification.image_url and len(text) <= CAPTION_LIMIT:
            return await self._bot.send_photo(
                chat_id,
                notification.image_url,
                caption=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        return await self._bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )


def keyboard(notification: Notification) -> InlineKeyboardMarkup | None:
    """One button a row; options whose command does not fit in callback data are left out."""
    rows = [
        [InlineKeyboardButton(option.label[:64], callback_data=data)]
        for option in notification.options
        if (data := callback_data(ANYONE, option.command)) is not None
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def callback_data(owner: str, command: str) -> str | None:
    """`owner|command`, or None if it exceeds Telegram's 64 bytes."""
    data = f"{owner}|{command}"
    return data if len(data.encode()) <= CALLBACK_DATA_LIMIT else None


def _limits_for(chat_id: str) -> list[tuple[str, str]]:
    is_group = chat_id.startswith("-")  # Telegram group and channel ids are negative
    per_chat = [("20/minute", f"chat:{chat_id}")] if is_group else [("1/second", f"chat:{chat_id}")]
    return [*per_chat, ("30/second", "all")]


async def _wait_out(error: RetryAfter) -> None:
    seconds = error.retry_after
    delay = seconds.total_seconds() if not isinstance(seconds, int) else float(seconds)
    if delay > MAX_RETRY_AFTER_SECONDS:
        raise DeliveryFailed(f"Telegram asks to wait {delay:.0f} s") from error
    await asyncio.sleep(delay)


def _raise_if_gone(error: TelegramError) -> None:
    if isinstance(error, Forbidden) or any(m in error.message.lower() for m in GONE_MARKERS):
        raise ChatGone(error.message) from error
