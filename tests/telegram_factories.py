"""Real python-telegram-bot objects for offline tests, in the manner of python-telegram-bot's
own tests/auxil/build_messages.py: users, chats, typed messages (commands marked with
bot_command entities, as a Telegram client marks them), updates and button presses, each bound
to a Bot so its shortcuts (`message.reply_text`, `query.answer`) go through that bot.
"""

from __future__ import annotations

import datetime as dtm
import re
from itertools import count
from typing import TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    Message,
    MessageEntity,
    TelegramObject,
    Update,
    User,
)

# A command as clients mark it: "/" at the start or after whitespace, 1-32 word characters,
# optionally "@BotName".
COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
DATE = dtm.datetime(2026, 11, 26, 20, 0, tzinfo=dtm.UTC)

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


def make_message(text: str, *, user: User, chat: Chat, bot: Bot, message_id: int) -> Message:
    """A message `user` typed in `chat`."""
    message = Message(
        message_id,
        DATE,
        chat,
        from_user=user,
        text=text,
        entities=command_entities(text) or None,
    )
    return bound(message, bot)


def make_message_update(message: Message, bot: Bot) -> Update:
    return bound(Update(next(_update_ids), message=message), bot)


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


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
