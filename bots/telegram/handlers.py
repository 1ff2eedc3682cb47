"""Telegram updates in, router calls, replies out. Handlers parse nothing themselves."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import CallbackQuery, Message, Update
from telegram.constants import CallbackQueryLimit, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bots.chat import ChatRouter, Reply
from bots.messages import UnitOfWorkFactory
from bots.telegram.polls import PollVotes, utf16_length
from bots.telegram.replies import ButtonPress, decode_button, render
from bots.telegram.speakers import GROUP_CHATS, PLATFORM, speaker_of
from questrya.common.values import ChatAddress
from questrya.groups import service as group_service
from questrya.notifications.senders.poll_chats import PollChats
from questrya.notifications.senders.telegram_threads import ReplyThreads, Thread

NOT_YOURS = "This button belongs to someone else's message."
STALE_BUTTON = "This button no longer works; type the command instead."
APOLOGY = "Sorry, something went wrong on my side; it has been logged."
NOT_MODIFIED = "message is not modified"

log = logging.getLogger(__name__)


class TelegramHandlers:
    """The bot's handlers, bound to one router (and to where answers are noted for pushes)."""

    def __init__(
        self,
        router: ChatRouter,
        uow_factory: UnitOfWorkFactory,
        threads: ReplyThreads | None = None,
        poll_chats: PollChats | None = None,
    ) -> None:
        self.router = router
        self._uow_factory = uow_factory
        self._threads = threads
        self._votes = PollVotes(router, poll_chats)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        text = without_bot_name(message.text, context.bot.username)
        speaker = speaker_of(user, message.chat, sender_chat=message.sender_chat)
        reply = await self.router.handle_text(speaker, text)
        await self._answer(message, reply, owner=str(user.id))

    async def on_group_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the table does not know, in a group: answered only when it names this bot
        (`/frobnicate@QuestryaBot`); other bots' commands are none of ours."""
        message = update.effective_message
        if message and message.text and addressed_to(message.text, context.bot.username):
            await self.on_command(update, context)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        press = await checked_press(query) if query is not None else None
        if query is None or press is None or not isinstance(query.message, Message):
            return
        message, presser = query.message, str(query.from_user.id)
        reply = await self.router.handle_text(
            speaker_of(query.from_user, message.chat), press.command
        )
        if press.is_shared and message.chat.type in GROUP_CHATS:
            await self._answer_shared_press(query, message, reply, owner=presser)
            return
        await query.answer()
        await show_in_place(message, reply, owner=presser)

    async def on_poll_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tap on one of the bot's polls."""
        if update.poll_answer is not None:
            await self._votes.count(update.poll_answer)

    async def on_chat_moved(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup, with a new id: its feed, members, polls (and the note of
        its latest native poll) and games move with it. Telegram tells it twice, in the old chat
        and in the new; moving again is a no-op."""
        move = chat_move(update.effective_message) if update.effective_message else None
        if move is not None:
            old, new = move
            log.info("telegram chat %s is now %s; moving its group", old, new)
            await group_service.move_chat(
                uow_factory=self._uow_factory,
                old=ChatAddress(PLATFORM, str(old)),
                new=ChatAddress(PLATFORM, str(new)),
            )
            await self._votes.moved(str(old), str(new))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log the bug (tokens are scrubbed by the log filter) and
        tell the player in one line."""
        log.error("update failed", exc_info=context.error)
        if not isinstance(update, Update):
            return
        if update.callback_query is not None:
            # Unanswered, the button would spin; answered already, Telegram refuses: both fine.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        if update.effective_chat is not None:
            try:
                await update.effective_chat.send_message(APOLOGY)
            except TelegramError as error:
                log.warning("could not apologise in chat %s: %s", update.effective_chat.id, error)

    async def _answer(self, message: Message, reply: Reply, *, owner: str) -> None:
        """The reply in the message's chat, then its poll, if it opens one."""
        sent = await send_reply(message, reply, owner=owner)
        await self._note_thread(reply, sent, owner=owner)
        if reply.poll is not None:
            await self._votes.open(message, reply.poll)

    async def _answer_shared_press(
        self, query: CallbackQuery, message: Message, reply: Reply, *, owner: str
    ) -> None:
        """Anyone in the group may press it, so the answer is the presser's own, not an edit of
        the message everyone shares. A refusal is for the presser alone: an alert only they
        see, rather than a message that tells the whole group about one mistaken tap."""
        if fits_an_alert(reply):
            await query.answer(reply.text, show_alert=True)
            return
        await query.answer()
        await self._answer(message, reply, owner=owner)

    async def _note_thread(self, reply: Reply, sent: Message, *, owner: str) -> None:
        """Where pushes about the reply's topic (a game's details) should follow."""
        if reply.topic and self._threads is not None:
            thread = Thread(message_id=sent.message_id, owner=owner)
            await self._threads.remember(str(sent.chat.id), reply.topic, thread)


async def checked_press(query: CallbackQuery) -> ButtonPress | None:
    """The press, or None when it is refused with a short answer: data we did not make, or
    someone else's button. An accepted press is answered once its command has run."""
    press = decode_button(query.data)
    if press is None or not isinstance(query.message, Message):
        await query.answer(STALE_BUTTON)
        return None
    if not press.allows(str(query.from_user.id)):
        await query.answer(NOT_YOURS)
        return None
    return press


def chat_move(message: Message) -> tuple[int, int] | None:
    """(old id, new id) of a group's move to a supergroup, from either notice of it."""
    if message.migrate_to_chat_id is not None:
        return message.chat.id, message.migrate_to_chat_id
    if message.migrate_from_chat_id is not None:
        return message.migrate_from_chat_id, message.chat.id
    return None


def fits_an_alert(reply: Reply) -> bool:
    """A refusal in one short line of plain text: nothing to press, show or vote on."""
    plain = not (reply.choices or reply.image_url or reply.poll)
    short = utf16_length(reply.text) <= CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    return reply.refused and plain and short


def addressed_to(text: str, username: str) -> bool:
    """`/cmd@Name …` where Name is `username` (Telegram usernames ignore case)."""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    _, at, name = head.partition("@")
    return bool(at) and name.casefold() == username.casefold()


def without_bot_name(text: str, username: str) -> str:
    """`/add@QuestryaBot Hades` as `/add Hades`: the name only says which bot is meant."""
    named = re.compile(rf"^(/\w+)@{re.escape(username)}(?=\s|$)", re.IGNORECASE)
    return named.sub(r"\1", text, count=1)


async def send_reply(message: Message, reply: Reply, *, owner: str) -> Message:
    """Answer in the message's chat (quoting it in groups): a photo with caption when there is
    a cover, the text alone when Telegram cannot use the cover."""
    rendered = render(reply, owner)
    if rendered.photo is not None:
        try:
            return await message.reply_photo(
                rendered.photo,
                caption=rendered.html,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.markup,
            )
        except BadRequest as error:
            log.warning("cover refused (%s); answering with the text alone", error.message)
    return await message.reply_text(
        rendered.html, parse_mode=ParseMode.HTML, reply_markup=rendered.markup
    )


async def show_in_place(message: Message, reply: Reply, *, owner: str) -> None:
    """A button's answer replaces the message it was on (pages turn, choices resolve)."""
    rendered = render(reply, owner)
    if rendered.photo is not None or message.photo:
        await send_reply(message, reply, owner=owner)  # text and photo cannot replace each other
        return
    try:
        await message.edit_text(
            rendered.html, parse_mode=ParseMode.HTML, reply_markup=rendered.markup
        )
    except BadRequest as error:
        # A double tap turns to the page already shown: nothing to change, nothing wrong.
        if NOT_MODIFIED not in error.message.lower():
            raise
