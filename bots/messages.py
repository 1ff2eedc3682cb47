"""The shapes adapters and command handlers share: speakers, replies, choices, commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from bots.parsing import Arguments
from questrya.common.values import ChatAddress

if TYPE_CHECKING:
    from questrya.unit_of_work import UnitOfWork

UnitOfWorkFactory = Callable[[], "UnitOfWork"]


@dataclass(frozen=True)
class Choice:
    """An answer the player can pick instead of typing: a label and the command it runs."""

    label: str
    command: str


@dataclass(frozen=True)
class Poll:
    """A vote the platform runs natively (Telegram poll, Discord poll, numbers in the console)."""

    question: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Reply:
    """What the bot answers: plain text (adapters escape it), choices, an optional image,
    an optional poll; `public` replies are for the whole channel (Discord answers the rest
    privately in servers)."""

    text: str
    choices: tuple[Choice, ...] = ()
    image_url: str | None = None
    poll: Poll | None = None
    public: bool = False
    # What the reply is about ("game-12"): pushes whose event key starts with it (the game's
    # details) can follow this reply on platforms that thread messages.
    topic: str | None = None
    # A refusal (bad input, a rule): it changed nothing, and says how to write the command.
    refused: bool = False


@dataclass(frozen=True)
class Speaker:
    """Who typed the command, and in which chat."""

    platform: str
    user_id: str
    display_name: str
    chat_id: str
    is_group: bool = False
    # Asks the platform whether the speaker administers the group; None where the platform
    # has no such notion (the console), so the group's own rule applies.
    admin_check: Callable[[], Awaitable[bool]] | None = field(default=None, compare=False)

    async def is_admin(self) -> bool | None:
        return await self.admin_check() if self.admin_check else None

    async def with_admin_answer(self) -> Speaker:
        """This speaker with the platform's answer about admin rights fetched now, so that a
        command can ask for it later without waiting on the platform."""
        answer = await self.is_admin()
        if answer is None:
            return self

        async def known() -> bool:
            return answer

        return replace(self, admin_check=known)

    @property
    def chat(self) -> ChatAddress:
        return ChatAddress(platform=self.platform, chat_id=self.chat_id)


@dataclass(frozen=True)
class Context:
    """What a command handler works with."""

    speaker: Speaker
    player_id: int
    uow_factory: UnitOfWorkFactory
    is_new_player: bool = False


Handler = Callable[[Context, Arguments], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """One entry of the command table, from which parsing, dispatch and /help all come."""

    name: str
    usage: str
    example: str
    summary: str
    parse: Callable[[str], Arguments]
    handler: Handler = field(repr=False)
    listed: bool = True  # False for commands only choices run, kept out of /help and menus
    # True for commands that need the platform's word on admin rights: the router asks before
    # the command's transaction begins, so no database lock waits on a call to the platform.
    checks_admin: bool = False

    def as_text(self, arguments: Arguments) -> str:
        """The command line that would give these arguments, for "did you mean" choices."""
        parts = [f"/{self.name}", arguments.title, arguments.platform or ""]
        parts.append(str(arguments.rating) if arguments.rating is not None else "")
        return " ".join(part for part in parts if part)
