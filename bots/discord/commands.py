"""Every slash command of the bot, registered in `register_commands`.

Each command turns its typed options into router `Arguments`; the router does the rest, and its
command table gives each command's description. Titles autocomplete from the player's games
(and, for /add and /wish, the catalog); platforms from the known ones; statuses and on/off are
choices; ratings and votes 1-10 ranges, hours 1-500 and titles 1-200 characters, which Discord
checks before we see them. Every command is offered in servers and DMs alike: a group command
in a DM, or /link in a server, gets the router's one-line answer, not a missing command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

import discord
from discord import app_commands

from bots.chat import ChatRouter
from bots.discord.polls import PollVotes
from bots.discord.responses import answer_command, report_failure
from bots.discord.speakers import speaker_of
from bots.link_commands import LinkArguments
from bots.next_commands import NextArguments
from bots.parsing import Arguments
from questrya.common.text import fold
from questrya.common.values import Platform, Title

CHOICE_LIMIT = 25
CHOICE_NAME_LIMIT = 100
STATUSES = ("open", "playing", "paused", "backlog", "wishlist", "completed", "abandoned", "all")
STATUS_CHOICES = [app_commands.Choice(name=status, value=status) for status in STATUSES]
Rating = app_commands.Range[int, 1, 10]
TitleText = app_commands.Range[str, 1, Title.MAX_LENGTH]
Page = app_commands.Range[int, 1, 100_000]
Hours = app_commands.Range[int, 1, 500]  # what /next accepts
Vote = app_commands.Range[int, 1, 10]  # a /tonight poll has at most ten games
LinkCode = app_commands.Range[str, 1, 32]  # roomy: a mistyped code gets the router's answer
OnOff = Literal["on", "off"]  # offered as two choices
TITLE = "The game's title"
PLATFORM = "Where you play it: PC, PlayStation 5, …"
Choices = list[app_commands.Choice[str]]
Runner = Callable[[discord.Interaction, str, Arguments], Awaitable[None]]
Completer = Callable[[discord.Interaction, str], Coroutine[Any, Any, Choices]]


def register_commands(
    tree: app_commands.CommandTree[Any], router: ChatRouter, polls: PollVotes
) -> None:
    """Every command, its options and autocompletes, and the tree's one error handler."""
    kit = _CommandKit(router, polls)
    _register_list_commands(tree, kit)
    _register_progress_commands(tree, kit)
    _register_planning_commands(tree, kit)
    _register_group_commands(tree, kit)
    _register_link_commands(tree, kit)

    @tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # A command's own exception arrives wrapped in CommandInvokeError.
        await report_failure(interaction, getattr(error, "original", error))


class _CommandKit:
    """What every command shares: its description, running it, completing its titles."""

    def __init__(self, router: ChatRouter, polls: PollVotes) -> None:
        self._router = router
        self._polls = polls

    def summary(self, name: str) -> str:
        text = self._router.commands[name].summary
        return (text[:1].upper() + text[1:])[:100]

    async def run(self, interaction: discord.Interaction, name: str, arguments: Arguments) -> None:
        work = self._router.handle_command(speaker_of(interaction), name, arguments)
        await self._polls.answer(answer_command(interaction, name, work), interaction.channel_id)

    async def own_titles(self, interaction: discord.Interaction, typed: str) -> Choices:
        speaker = speaker_of(interaction)
        return _choices(await self._router.suggest_titles(speaker, typed, catalog=False))

    async def known_titles(self, interaction: discord.Interaction, typed: str) -> Choices:
        speaker = speaker_of(interaction)
        return _choices(await self._router.suggest_titles(speaker, typed, catalog=True))


def _register_list_commands(tree: app_commands.CommandTree[Any], kit: _CommandKit) -> None:
    """Getting started, adding games and looking at the list."""

    @tree.command(name="start", description=kit.summary("start"))
    async def start(interaction: discord.Interaction) -> None:
        await kit.run(interaction, "start", Arguments())

    @tree.command(name="help", description=kit.summary("help"))
    async def show_help(interaction: discord.Interaction) -> None:
        await kit.run(interaction, "help", Arguments())

    @tree.command(name="add", description=kit.summary("add"))
    @app_commands.describe(title=TITLE, platform=PLATFORM)
    @app_commands.autocomplete(title=kit.known_titles, platform=platforms)
    async def add(
        interaction: discord.Interaction, title: TitleText, platform: str | None = None
    ) -> None:
        await kit.run(interaction, "add", Arguments(title=title, platform=platform))

    @tree.command(name="backlog", description=kit.summary("backlog"))
    @app_commands.describe(status="Which games (open by default)", page="Page number")
    @app_commands.choices(status=STATUS_CHOICES)
    async def backlog(
        interaction: discord.Interaction,
        status: app_commands.Choice[str] | None = None,
        page: Page = 1,
    ) -> None:
        chosen = status.value if status else None
        await kit.run(interaction, "backlog", Arguments(status=chosen, page=page))


def _register_progress_commands(tree: app_commands.CommandTree[Any], kit: _CommandKit) -> None:
    """Playing, finishing, rating and dropping a game of the list."""

    @tree.command(name="done", description=kit.summary("done"))
    @app_commands.describe(title=TITLE, rating="Your rating, 1 to 10")
    @app_commands.autocomplete(title=kit.own_titles)
    async def done(
        interaction: discord.Interaction, title: TitleText, rating: Rating | None = None
    ) -> None:
        await kit.run(interaction, "done", Arguments(title=title, rating=rating))

    @tree.command(name="rate", description=kit.summary("rate"))
    @app_commands.describe(title=TITLE, rating="Your rating, 1 to 10")
    @app_commands.autocomplete(title=kit.own_titles)
    async def rate(interaction: discord.Interaction, title: TitleText, rating: Rating) -> None:
        await kit.run(interaction, "rate", Arguments(title=title, rating=rating))

    for name in ("play", "pause", "drop", "remove"):
        tree.add_command(_title_command(name, kit.summary(name), kit.run, kit.own_titles))


def _register_planning_commands(tree: app_commands.CommandTree[Any], kit: _CommandKit) -> None:
    """The player's numbers, what to play next, and games for later."""

    @tree.command(name="stats", description=kit.summary("stats"))
    async def stats(interaction: discord.Interaction) -> None:
        await kit.run(interaction, "stats", Arguments())

    @tree.command(name="next", description=kit.summary("next"))
    @app_commands.describe(hours="How many hours you have (any, if left out)")
    async def suggest_next(interaction: discord.Interaction, hours: Hours | None = None) -> None:
        await kit.run(interaction, "next", NextArguments(hours=hours))

    @tree.command(name="wish", description=kit.summary("wish"))
    @app_commands.describe(title=TITLE, platform=PLATFORM)
    @app_commands.autocomplete(title=kit.known_titles, platform=platforms)
    async def wish(
        interaction: discord.Interaction, title: TitleText, platform: str | None = None
    ) -> None:
        await kit.run(interaction, "wish", Arguments(title=title, platform=platform))


def _register_group_commands(tree: app_commands.CommandTree[Any], kit: _CommandKit) -> None:
    """In a server channel: the group's feed and what to play together."""

    @tree.command(name="feed", description=kit.summary("feed"))
    @app_commands.describe(turn="on: post sharing members' completions here; off: stop")
    async def feed(interaction: discord.Interaction, turn: OnOff) -> None:
        await kit.run(interaction, "feed", Arguments(status=turn))

    @tree.command(name="share", description=kit.summary("share"))
    @app_commands.describe(turn="on: your completions go to this channel's feed; off: not")
    async def share(interaction: discord.Interaction, turn: OnOff) -> None:
        await kit.run(interaction, "share", Arguments(status=turn))

    @tree.command(name="recommend", description=kit.summary("recommend"))
    @app_commands.describe(title=TITLE)
    @app_commands.autocomplete(title=kit.own_titles)
    async def recommend(interaction: discord.Interaction, title: TitleText) -> None:
        await kit.run(interaction, "recommend", Arguments(title=title))

    @tree.command(name="tonight", description=kit.summary("tonight"))
    async def tonight(interaction: discord.Interaction) -> None:
        await kit.run(interaction, "tonight", Arguments())

    @tree.command(name="vote", description=kit.summary("vote"))
    @app_commands.describe(number="The number of a game in the latest /tonight list")
    async def vote(interaction: discord.Interaction, number: Vote) -> None:
        # The router reads a vote as typed, like `/vote 2`.
        await kit.run(interaction, "vote", Arguments(status=str(number)))


def _register_link_commands(tree: app_commands.CommandTree[Any], kit: _CommandKit) -> None:
    """In a DM: one backlog across platforms."""

    @tree.command(name="link", description=kit.summary("link"))
    @app_commands.describe(code="The code /link gave you on your other account")
    async def link(interaction: discord.Interaction, code: LinkCode | None = None) -> None:
        await kit.run(interaction, "link", LinkArguments(code=code))

    @tree.command(name="unlink", description=kit.summary("unlink"))
    async def unlink(interaction: discord.Interaction) -> None:
        await kit.run(interaction, "unlink", Arguments())


def _title_command(
    name: str, description: str, run: Runner, own_titles: Completer
) -> app_commands.Command[Any, ..., None]:
    """A command whose one option is a title of the player's own games."""

    @app_commands.command(name=name, description=description)
    @app_commands.describe(title=TITLE)
    @app_commands.autocomplete(title=own_titles)
    async def command(interaction: discord.Interaction, title: TitleText) -> None:
        await run(interaction, name, Arguments(title=title))

    return command


def _squeezed(text: str) -> str:
    """Folded without spaces: "playstation5" finds "PlayStation 5"."""
    return fold(text).replace(" ", "")


# Folded once: the platform autocomplete runs on every keystroke.
SQUEEZED_PLATFORMS = tuple((_squeezed(p.value), p.value) for p in Platform)


async def platforms(interaction: discord.Interaction, typed: str) -> Choices:
    """The known platforms whose name contains what was typed, canonical names first."""
    wanted = _squeezed(typed)
    names = [name for squeezed, name in SQUEEZED_PLATFORMS if wanted in squeezed]
    if not names and (found := Platform.lookup(typed)) is not None:
        names = [found.value]  # an alias: "ps5", "switch"
    return _choices(names)


def _choices(names: list[str]) -> Choices:
    fitting = [name for name in names if len(name) <= CHOICE_NAME_LIMIT][:CHOICE_LIMIT]
    return [app_commands.Choice(name=name, value=name) for name in fitting]
