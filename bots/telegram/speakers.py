"""Who speaks on Telegram, in which chat, and (asked only when a command needs it) whether they
administer the group: a chat administrator or its creator, as getChatMember reports them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Bot, Chat, User
from telegram.constants import ChatMemberStatus, ChatType

from bots.chat import Speaker

PLATFORM = "telegram"
GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)
ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})

AdminCheck = Callable[[], Awaitable[bool]]


def speaker_of(user: User, chat: Chat, *, sender_chat: Chat | None = None) -> Speaker:
    """The speaker of a message or a button press; `sender_chat` is who a message was sent on
    behalf of (a group's anonymous admins send as the group itself)."""
    is_group = chat.type in GROUP_CHATS
    return Speaker(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.full_name,
        chat_id=str(chat.id),
        is_group=is_group,
        admin_check=admin_check(chat, user, sender_chat) if is_group else None,
    )


def voter_of(user: User, chat_id: str, bot: Bot) -> Speaker:
    """The speaker of a vote in a native poll: Telegram names the voter but not the chat, which
    the bot noted when it sent the poll."""
    return Speaker(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.full_name,
        chat_id=chat_id,
        is_group=True,
        admin_check=lambda: is_chat_admin(bot, chat_id, user.id),
    )


def admin_check(chat: Chat, user: User, sender_chat: Chat | None) -> AdminCheck:
    """Asks Telegram only when called: most commands never need to know."""

    async def check() -> bool:
        if sender_chat is not None and sender_chat.id == chat.id:
            # An anonymous admin: Telegram shows the group as the sender, and only its admins
            # can post as the group. Their user is the shared GroupAnonymousBot, no admin itself.
            return True
        return await is_chat_admin(chat.get_bot(), chat.id, user.id)

    return check


async def is_chat_admin(bot: Bot, chat_id: int | str, user_id: int) -> bool:
    """Whether getChatMember reports the user as the chat's creator or an administrator."""
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status in ADMIN_STATUSES
