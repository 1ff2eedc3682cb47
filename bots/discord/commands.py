"""Every slash command of the bot, registered in `register_commands`.

Each command turns its typed options into router `Arguments`; the router does the rest. Titles
autocomplete from the player's games (and, for /add, the catalog); statuses are choices; ratings
are a 1-10 range, checked by Discord before we see them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import discord
from discord import app_commands

from bots.chat import ChatRouter
from bots.discord.responses import answer, answer_error
from bots.discord.speakers import speaker_of
from bots.parsing import Arguments

APOLOGY = "Sorry, something went wrong on my side; it has been logged."
CHOICE_LIMIT = 100
STATUS_CHOICES = [
    app_commands.Choice(name=name, value=name)
    for name in (
        "open",
        "playing",
        "paused",
        "backlog",
        "wishlist",
        "completed",
        "abandoned",
        "all",
    )
]
Rating = app_commands.Range[int, 1, 10]
PUBLIC_COMMANDS = frozenset({"done"})  # completions are news for the channel

Runner = Callable[[discord.Interaction, str, Arguments], Awaitable[None]]
Completer = Callable[
    [discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]

log = logging.getLogger(__name__)


def register_commands(tree: app_commands.CommandTree[discord.Client], router: ChatRouter) -> None:
    """Every command, its options and autocompletes, and the tree's error handler."""

    async def run(interaction: discord.Interaction, name: str, arguments: Arguments) -> None:
        work = asyncio.ensure_future(
            router.handle_command(speaker_of(interaction), name, arguments)
        )
        await answer(interaction, work, public=name in PUBLIC_COMMANDS)

    async def own_titles(
        interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(await router.suggest_titles(speaker_of(interaction), typed, catalog=False))

    async def known_titles(
        interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(await router.suggest_titles(speaker_of(interaction), typed, catalog=True))

    @tree.command(name="start", description="A short guide")
    async def start(interaction: discord.Interaction) -> None:
        await run(interaction, "start", Arguments())

    @tree.command(name="help", description="Every command")
    async def show_help(interaction: discord.Interaction) -> None:
        await run(interaction, "help", Arguments())

    @tree.command(name="add", description="Add a game to your backlog")
    @app_commands.describe(
        title="The game's title", platform="Where you play it (pc, ps5, switch…)"
    )
    @app_commands.autocomplete(title=known_titles)
    async def add(
        interaction: discord.Interaction, title: str, platform: str | None = None
    ) -> None:
        await run(interaction, "add", Arguments(title=title, platform=platform))

    @tree.command(name="backlog", description="Your games, a page at a time")
    @app_commands.choices(status=STATUS_CHOICES)
    async def backlog(
        interaction: discord.Interaction,
        status: app_commands.Choice[str] | None = None,
        page: app_commands.Range[int, 1, 100_000] = 1,
    ) -> None:
        await run(
            interaction, "backlog", Arguments(status=status.value if status else None, page=page)
        )

    @tree.command(name="done", description="Mark a game completed, with an optional rating")
    @app_commands.autocomplete(title=own_titles)
    async def done(
        interaction: discord.Interaction, title: str, rating: Rating | None = None
    ) -> None:
        await run(interaction, "done", Arguments(title=title, rating=rating))

    @tree.command(name="rate", description="Rate a game you played")
    @app_commands.autocomplete(title=own_titles)
    async def rate(interaction: discord.Interaction, title: str, rating: Rating) -> None:
        await run(interaction, "rate", Arguments(title=title, rating=rating))

    for name, description in TITLE_COMMANDS.items():
        tree.add_command(_title_command(name, description, run, own_titles))

    @tree.command(name="stats", description="Your numbers")
    async def stats(interaction: discord.Interaction) -> None:
        await run(interaction, "stats", Arguments())

    @tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """The one error handler: log the bug (tokens are scrubbed by the log filter) and answer
        the player in one line."""
        log.error("interaction failed", exc_info=error)
        await answer_error(interaction, APOLOGY)


TITLE_COMMANDS = {
    "play": "Start, resume or replay a game",
    "pause": "Put a game on hold",
    "drop": "Give up on a game",
    "remove": "Delete a game from your list",
}


def _title_command(
    name: str, description: str, run: Runner, own_titles: Completer
) -> app_commands.Command[Any, ..., None]:
    """A command whose one option is a title of the player's own games."""

    @app_commands.command(name=name, description=description)
    @app_commands.autocomplete(title=own_titles)
    async def command(interaction: discord.Interaction, title: str) -> None:
        await run(interaction, name, Arguments(title=title))

    return command


def _choices(titles: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=t, value=t) for t in titles if len(t) <= CHOICE_LIMIT]
