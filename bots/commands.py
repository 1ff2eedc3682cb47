"""The command table: each command's usage, its parser and its handler.

A handler parses nothing and renders little: it calls one service and turns the result into a
`Reply`. /help is generated from this table.
"""

from __future__ import annotations

import functools

from bots import parsing, rendering
from bots.messages import Choice, Command, Context, Reply
from bots.parsing import Arguments
from questrya.common.errors import InvalidInput
from questrya.games import service as game_service
from questrya.metadata import service as metadata_service

GREETING = (
    "Hi {name}! I keep your video-game backlog.\n"
    "Add a game with /add Hades, see your list with /backlog, "
    "start one with /play Hades and finish it with /done Hades 9.\n"
    "Type /help for every command."
)


async def start(context: Context, arguments: Arguments) -> Reply:
    return Reply(GREETING.format(name=context.speaker.display_name))


async def show_help(context: Context, arguments: Arguments) -> Reply:
    lines = [
        f"{command.usage} — {command.summary}"
        for command in command_table().values()
        if command.listed
    ]
    return Reply("\n".join(["Commands:", *lines]))


async def add(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.add_to_backlog(
        uow=context.uow_factory(),
        player_id=context.player_id,
        title=arguments.title,
        platform=arguments.platform,
        added_in=context.speaker.chat,
    )
    if game.from_wishlist:
        return Reply(f"Moved {game.title} from your wishlist to your backlog. Enjoy!")
    where = f" ({game.platform})" if game.platform else ""
    return Reply(
        f"Added {game.title}{where} to your backlog. I'll look up its details.",
        topic=f"game-{game.id}",
    )


async def backlog(context: Context, arguments: Arguments) -> Reply:
    page = await game_service.list_backlog(
        uow=context.uow_factory(),
        player_id=context.player_id,
        status=arguments.status,
        page=arguments.page,
    )
    choices = []
    if page.page > 1:
        choices.append(Choice("‹ Previous page", f"/backlog {page.status} {page.page - 1}"))
    if page.has_next:
        choices.append(Choice("Next page ›", f"/backlog {page.status} {page.page + 1}"))
    return Reply(rendering.backlog_page(page), choices=tuple(choices))


async def play(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.start_playing(
        uow=context.uow_factory(), player_id=context.player_id, title=arguments.title
    )
    return Reply(f"Now playing {game.title}. Have fun!")


async def pause(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.pause(
        uow=context.uow_factory(), player_id=context.player_id, title=arguments.title
    )
    return Reply(f"Paused {game.title}. /play {game.title} picks it up again.")


async def done(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.mark_completed(
        uow=context.uow_factory(),
        player_id=context.player_id,
        title=arguments.title,
        rating=arguments.rating,
    )
    return Reply(f"Completed {rendering.rated_title(game)}. Well played!", public=True)


async def drop(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.abandon(
        uow=context.uow_factory(), player_id=context.player_id, title=arguments.title
    )
    return Reply(f"Dropped {game.title}. /play {game.title} picks it up again.")


async def rate(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.rate(
        uow=context.uow_factory(),
        player_id=context.player_id,
        title=arguments.title,
        rating=arguments.rating,
    )
    return Reply(f"Rated {game.title} {game.rating}/10.")


async def remove(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.remove(
        uow=context.uow_factory(), player_id=context.player_id, title=arguments.title
    )
    return Reply(f"Removed {game.title} from your list.")


async def stats(context: Context, arguments: Arguments) -> Reply:
    numbers = await game_service.get_stats(uow=context.uow_factory(), player_id=context.player_id)
    return Reply(rendering.stats(numbers))


async def identify(context: Context, arguments: Arguments) -> Reply:
    if not arguments.source_id:
        raise InvalidInput("Pick one of the games offered.")
    game = await metadata_service.choose(
        uow=context.uow_factory(),
        player_id=context.player_id,
        title=arguments.title,
        source_id=arguments.source_id,
    )
    return Reply(f"Got it: looking up the details of {game.title}.")


@functools.cache
def command_table() -> dict[str, Command]:
    """Every command, in the order /help lists them."""
    from bots.group_commands import group_commands
    from bots.link_commands import link_commands
    from bots.next_commands import next_commands

    commands = [*backlog_commands(), *next_commands(), *group_commands(), *link_commands()]
    return {command.name: command for command in commands}


def backlog_commands() -> list[Command]:
    """The commands of a player's own list."""
    return [
        Command("start", "/start", "/start", "a short guide", parsing.no_arguments, start),
        Command("help", "/help", "/help", "this list", parsing.no_arguments, show_help),
        Command(
            "add",
            "/add <title> [platform]",
            "/add Hades switch",
            "add a game to your backlog",
            parsing.title_and_platform,
            add,
        ),
        Command(
            "backlog",
            "/backlog [status] [page]",
            "/backlog completed 2",
            "your games: open by default, or playing, paused, backlog, wishlist, completed, "
            "abandoned, all",
            parsing.status_and_page,
            backlog,
        ),
        Command("play", "/play <title>", "/play Hades", "start playing", parsing.title_only, play),
        Command(
            "pause", "/pause <title>", "/pause Hades", "put on hold", parsing.title_only, pause
        ),
        Command(
            "done",
            "/done <title> [rating 1-10]",
            "/done Hades 9",
            "mark completed, with an optional rating",
            parsing.title_and_rating,
            done,
        ),
        Command(
            "drop", "/drop <title>", "/drop Hades", "give up on a game", parsing.title_only, drop
        ),
        Command(
            "rate",
            "/rate <title> <1-10>",
            "/rate Hades 8",
            "rate a game you played",
            parsing.title_and_required_rating,
            rate,
        ),
        Command(
            "remove",
            "/remove <title>",
            "/remove Hades",
            "delete from your list",
            parsing.title_only,
            remove,
        ),
        Command("stats", "/stats", "/stats", "your numbers", parsing.no_arguments, stats),
        Command(
            "identify",
            "/identify <id> <title>",
            "/identify hades Hades",
            "pick the right game among the ones offered",
            parsing.source_and_title,
            identify,
            listed=False,
        ),
    ]
