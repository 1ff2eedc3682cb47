"""Real python-telegram-bot objects for offline tests, in the manner of python-telegram-bot's
own tests/auxil/build_messages.py: users, chats, typed messages (commands marked with
bot_command entities, as a Telegram client marks them), updates, button presses and poll
answers, each bound to a Bot so its shortcuts (`message.reply_text`, `query.answer`) go through
that bot. `OfflineTelegram` is the bot's own Application on the fake Bot API without a network,
and Telegram users acting on it.
"""

from __future__ import annotations

import datetime as dtm
import re
from collections.abc import AsyncIterator
from itertools import count
from typing import TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PollAnswer,
    TelegramObject,
    Update,
    User,
)
from telegram.ext import Application

from bots.chat import build_router
from bots.messages import UnitOfWorkFactory
from bots.telegram.app import build_application
from questrya.notifications.senders.poll_chats import PollChats
from tests.fakes_servers.telegram import Call, FakeBotApi
from tests.fakes_servers.telegram_offline import OfflineBotApi

# A command as clients mark it: "/" at the start or after whitespace, 1-32 word characters,
# optionally "@BotName".
COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
DATE = dtm.datetime(2026, 11, 26, 20, 0, tzinfo=dtm.UTC)
TOKEN = "123456:ABC-offline-token"
BOT_USERNAME = "QuestryaBot"
# Never dialled: every call is answered in process by OfflineBotApi (.invalid never resolves).
API_URL = "https://bot-api.invalid/bot"
ANSWERS = ("sendMessage", "sendPhoto", "sendPoll", "editMessageText", "answerCallbackQuery")

Object = TypeVar("Object", bound=TelegramObject)

_update_ids = count(1_000)
_query_ids = count(7_000_000_000_000_000_000)


def make_user(user_id: int, first_name: str, username: str | None = None) -> User:
    return User(user_id, first_name, is_bot=False, username=username, language_code="en")


def make_private_chat(user: User) -> Chat:
    return Chat(user.id, Chat.PRIVATE, first_name=user.first_name, username=user.username)


def make_group_chat(chat_id: int, title: str, kind: str = Chat.SUPERGROUP) -> Chat:
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    return Chat(chat_id, kind, title=title)


def command_entities(text: str) -> tuple[MessageEntity, ...]:
    """The bot_command entities of a typed text (offsets in UTF-16 code units)."""
    return tuple(
        MessageEntity(MessageEntity.BOT_COMMAND, _utf16_len(text[: m.start()]), _utf16_len(m[0]))
        for m in COMMAND.finditer(text)
    )


def make_message(
    text: str,
    *,
    user: User,
    chat: Chat,
    bot: Bot,
    message_id: int,
    sender_chat: Chat | None = None,
) -> Message:
    """A message `user` typed in `chat` (on behalf of `sender_chat`, if given: an anonymous
    admin sends as the group itself)."""
    message = Message(
        message_id,
        DATE,
        chat,
        from_user=user,
        sender_chat=sender_chat,
        text=text,
        entities=command_entities(text) or None,
    )
    return bound(message, bot)


def make_message_update(message: Message, bot: Bot) -> Update:
    return bound(Update(next(_update_ids), message=message), bot)


def make_chat_moved_updates(old: Chat, new: Chat, *, by: User, bot: Bot) -> tuple[Update, Update]:
    """The two notices Telegram sends when the group `old` becomes the supergroup `new`: a
    service message in the old group naming the new id, then one in the supergroup naming the
    old."""
    moved_to = Message(1_000, DATE, old, from_user=by, migrate_to_chat_id=new.id)
    moved_from = Message(1, DATE, new, from_user=by, migrate_from_chat_id=old.id)
    return (
        make_message_update(bound(moved_to, bot), bot),
        make_message_update(bound(moved_from, bot), bot),
    )


def make_callback_update(data: str, *, user: User, message: Message, bot: Bot) -> Update:
    """`user` pressing the button with callback data `data` under `message`."""
    query = CallbackQuery(
        str(next(_query_ids)),
        user,
        chat_instance=str(abs(message.chat.id) * 7919),
        message=message,
        data=data,
    )
    return bound(Update(next(_update_ids), callback_query=bound(query, bot)), bot)


def make_poll_answer_update(poll_id: str, *, user: User, option_ids: list[int], bot: Bot) -> Update:
    """`user` tapping options of a non-anonymous poll (none: a retracted vote)."""
    answer = PollAnswer(poll_id, option_ids, user=user, option_persistent_ids=())
    return bound(Update(next(_update_ids), poll_answer=bound(answer, bot)), bot)


def bound(telegram_object: Object, bot: Bot) -> Object:
    """The object with `bot` set on it and on the users, chats and messages inside it."""
    telegram_object.set_bot(bot)
    for inner in vars_of(telegram_object):
        bound(inner, bot)
    return telegram_object


def vars_of(telegram_object: TelegramObject) -> list[TelegramObject]:
    slots = (getattr(klass, "__slots__", ()) for klass in type(telegram_object).__mro__)
    names = {name for names in slots for name in names if not name.startswith("_")}
    values = (getattr(telegram_object, name, None) for name in sorted(names))
    return [value for value in values if isinstance(value, TelegramObject)]


class OfflineTelegram:
    """The bot's Application on the offline fake, and Telegram users acting on it."""

    def __init__(self, api: FakeBotApi, application: Application) -> None:  # type: ignore[type-arg]
        self.api = api
        self.application = application
        self.bot = application.bot

    async def type(
        self, chat: Chat, user: User, text: str, *, sender_chat: Chat | None = None
    ) -> list[Call]:
        """`user` types `text` in `chat`; the calls the bot made in answer (besides getMe)."""
        return await self.feed(self.typed(chat, user, text, sender_chat=sender_chat))

    def typed(
        self, chat: Chat, user: User, text: str, *, sender_chat: Chat | None = None
    ) -> Update:
        """The update of `user` typing `text` in `chat`, the message kept in the chat."""
        message = make_message(
            text,
            user=user,
            chat=chat,
            bot=self.bot,
            message_id=self.api.next_message_id(chat.id),
            sender_chat=sender_chat,
        )
        self.api.receive(message.to_dict())
        return make_message_update(message, self.bot)

    async def press(self, chat: Chat, user: User, sent: Call, data: str) -> list[Call]:
        """`user` presses the button carrying `data` under the message `sent` delivered, as the
        chat shows it now."""
        [shown] = [m for m in self.api.messages(chat.id) if m["message_id"] == message_id(sent)]
        update = make_callback_update(
            data, user=user, message=Message.de_json(shown, self.bot), bot=self.bot
        )
        assert update.callback_query is not None
        self.api.open_callback_query(update.callback_query.id)
        return await self.feed(update)

    async def post(self, chat: Chat, text: str, data: str) -> Call:
        """A message of the bot's own with one button (as a worker's push would be)."""
        self.api.chats.setdefault(chat.id, chat.to_dict())
        button = InlineKeyboardButton("Press", callback_data=data)
        await self.bot.send_message(chat.id, text, reply_markup=InlineKeyboardMarkup([[button]]))
        return self.api.calls_to("sendMessage")[-1]

    async def feed(self, update: Update) -> list[Call]:
        since = len(self.api.calls)
        await self.application.process_update(update)
        return [call for call in self.api.calls[since:] if call.method in ANSWERS]


async def offline_bot(
    uow_factory: UnitOfWorkFactory, poll_chats: PollChats | None = None
) -> AsyncIterator[OfflineTelegram]:
    """The bot wired as `questrya telegram` wires it, on the offline fake, without Redis
    unless `poll_chats` are given."""
    api = FakeBotApi(token=TOKEN, bot_username=BOT_USERNAME)
    router = build_router(uow_factory)
    application = build_application(
        TOKEN,
        API_URL,
        router,
        uow_factory=uow_factory,
        request=OfflineBotApi(api),
        poll_chats=poll_chats,
    )
    async with application:
        yield OfflineTelegram(api, application)


def message_id(call: Call) -> int:
    return int(call.result["message_id"])


def text_of(call: Call) -> str:
    """What the chat shows: HTML parsed by the fake as Telegram parses it."""
    return str(call.result.get("text", call.result.get("caption", "")))


def buttons(call: Call) -> dict[str, str]:
    keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in keyboard for button in row}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
