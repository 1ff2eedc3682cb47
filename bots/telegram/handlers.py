"""Telegram updates in, router calls, replies out. Handlers parse nothing themselves."""

from __future__ import annotations

import logging

from telegram import Chat, Message, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.ext import ContextTypes

from bots.chat import ChatRouter, Reply, Speaker
from bots.telegram.replies import CAPTION_LIMIT, as_html, decode_button, keyboard

PLATFORM = "telegram"
NOT_YOURS = "This button belongs to someone else's message."
STALE_BUTTON = "This button no longer works; type the command instead."
APOLOGY = "Sorry, something went wrong on my side; it has been logged."

log = logging.getLogger(__name__)


class TelegramHandlers:
    """The bot's handlers, bound to one router."""

    def __init__(self, router: ChatRouter) -> None:
        self._router = router

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        reply = await self._router.handle_text(speaker_of(user, message.chat), message.text)
        await send_reply(message, reply, owner=str(user.id))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        press = decode_button(query.data)
        if press is None or not isinstance(query.message, Message):
            await query.answer(STALE_BUTTON)
            return
        if not press.allows(str(query.from_user.id)):
            await query.answer(NOT_YOURS)
            return
        await query.answer()
        speaker = speaker_of(query.from_user, query.message.chat)
        reply = await self._router.handle_text(speaker, press.command)
        await show_in_place(query.message, reply, owner=str(query.from_user.id))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log the bug (tokens are scrubbed by the log filter) and
        tell the player in one line."""
        log.error("update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            await update.effective_chat.send_message(APOLOGY)


def speaker_of(user: User, chat: Chat) -> Speaker:
    return Speaker(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.full_name,
        chat_id=str(chat.id),
        is_group=chat.type in (ChatType.GROUP, ChatType.SUPERGROUP),
    )


async def send_reply(message: Message, reply: Reply, *, owner: str) -> None:
    """Answer in the message's chat: a photo with caption when there is a cover."""
    markup = keyboard(reply, owner)
    text = as_html(reply)
    if reply.image_url and len(text) <= CAPTION_LIMIT:
        await message.reply_photo(
            reply.image_url, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        return
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def show_in_place(message: Message, reply: Reply, *, owner: str) -> None:
    """A button's answer replaces the message it was on (pages turn, choices resolve)."""
    if reply.image_url or message.photo:
        await send_reply(message, reply, owner=owner)
        return
    await message.edit_text(
        as_html(reply), parse_mode=ParseMode.HTML, reply_markup=keyboard(reply, owner)
    )
