"""The platform-neutral command router: a command in, a `Reply` out.

Every adapter (console, Telegram, Discord) hands commands here, as text or as typed options, and
renders the `Reply` it gets back. Errors the player can fix are rendered here, in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cachetools import LRUCache

from bots.commands import command_table
from bots.messages import Choice, Command, Context, Reply, Speaker, UnitOfWorkFactory
from bots.parsing import Arguments, check_types
from questrya.common.errors import (
    AmbiguousTitle,
    GameNotFound,
    GameRef,
    InvalidInput,
    QuestryaError,
)
from questrya.common.text import clean_text, shorten
from questrya.games import service as game_service
from questrya.groups import service as group_service
from questrya.metadata import service as metadata_service
from questrya.users import service as user_service

MAX_ECHOED_COMMAND = 32
MAX_SUGGESTIONS = 25  # Discord's cap on autocomplete choices
# A bot in many busy groups meets more memberships than it should hold for ever; one it forgot
# costs only the write it saves (note_presence is idempotent).
REMEMBERED_MEMBERSHIPS = 50_000

Membership = tuple[str, str, int]  # platform, chat id, player id


class ChatRouter:
    """Turns commands into service calls and their results (or refusals) into replies."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        commands: dict[str, Command],
        *,
        remembered_memberships: int = REMEMBERED_MEMBERSHIPS,
    ) -> None:
        self._uow_factory = uow_factory
        self.commands = commands
        # Memberships this process recorded lately: each costs a write only once while held.
        self._known_members: LRUCache[Membership, bool] = LRUCache(remembered_memberships)

    async def handle_text(self, speaker: Speaker, text: str) -> Reply:
        """Handle a line as typed: `/done@QuestryaBot Hades 9`."""
        line = clean_text(text)
        if not line.startswith("/"):
            return Reply(
                "Commands start with a slash, like /add Hades. Type /help to see them.",
                refused=True,
            )
        head, _, rest = line[1:].partition(" ")
        name = head.split("@", 1)[0].casefold()
        command = self.commands.get(name)
        if command is None:
            shown = shorten(head, MAX_ECHOED_COMMAND)
            return Reply(f"I don't know /{shown}. Type /help to see the commands.", refused=True)
        return await self._run(speaker, command, lambda: command.parse(rest.strip()))

    async def handle_command(self, speaker: Speaker, name: str, arguments: Arguments) -> Reply:
        """Handle a command given as typed options (Discord slash commands)."""
        return await self._run(speaker, self.commands[name], lambda: check_types(arguments))

    async def _run(
        self, speaker: Speaker, command: Command, parse: Callable[[], Arguments]
    ) -> Reply:
        arguments = Arguments()
        try:
            arguments = parse()
            if command.checks_admin:
                speaker = await speaker.with_admin_answer()
            # One unit for the whole command: the player lookup and the command's own work
            # share a transaction instead of each beginning one.
            uow = self._uow_factory()
            async with uow:
                context = await self._context(speaker, lambda: uow)
                return await command.handler(context, arguments)
        except QuestryaError as error:
            return dataclasses.replace(render_error(error, command, arguments), refused=True)

    async def suggest_titles(self, speaker: Speaker, typed: str, *, catalog: bool) -> list[str]:
        """Titles for autocomplete: the player's own games, then (for /add) the catalog."""
        uow = self._uow_factory()
        async with uow:
            context = await self._context(speaker, lambda: uow)
            own = await game_service.suggest_titles(
                uow=uow, player_id=context.player_id, typed=typed
            )
        extra = metadata_service.suggest_catalog_titles(typed) if catalog else []
        return list(dict.fromkeys([*own, *extra]))[:MAX_SUGGESTIONS]

    async def _context(self, speaker: Speaker, uow_factory: UnitOfWorkFactory) -> Context:
        player = await user_service.register(
            uow=uow_factory(),
            platform=speaker.platform,
            external_id=speaker.user_id,
            display_name=speaker.display_name,
        )
        membership = (speaker.platform, speaker.chat_id, player.id)
        # get, not `in`: a lookup keeps an active membership among the recently used.
        if speaker.is_group and not self._known_members.get(membership):
            await group_service.note_presence(
                uow=uow_factory(), address=speaker.chat, player_id=player.id
            )
            self._known_members[membership] = True
        return Context(speaker, player.id, uow_factory, is_new_player=player.is_new)


def render_error(error: QuestryaError, command: Command, arguments: Arguments) -> Reply:
    """The one place a refusal becomes a reply: what was wrong, and how to write it."""
    if isinstance(error, AmbiguousTitle):
        return _pick_one(f"{error.message} Which one?", error.candidates, command, arguments)
    if isinstance(error, GameNotFound) and error.suggestions:
        return _pick_one(f"{error.message} Did you mean:", error.suggestions, command, arguments)
    if isinstance(error, GameNotFound):
        return Reply(f"{error.message} See your games with /backlog all.")
    if isinstance(error, InvalidInput):
        return Reply(f"{error.message} Write it like {command.example}")
    return Reply(error.message)


def _pick_one(
    text: str, games: tuple[GameRef, ...], command: Command, arguments: Arguments
) -> Reply:
    """Choices that run the same command on one game, named by reference, not by title."""
    choices = tuple(
        Choice(label=game.title, command=command.as_text(arguments.with_title(game.reference)))
        for game in games
    )
    return Reply(text, choices=choices)


def build_router(uow_factory: UnitOfWorkFactory) -> ChatRouter:
    """The router with every command registered."""
    return ChatRouter(uow_factory, command_table())


__all__ = ["Arguments", "ChatRouter", "Choice", "Reply", "Speaker", "build_router"]
