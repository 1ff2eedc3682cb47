"""What to play next: /next [hours] ranks the player's own backlog."""

from __future__ import annotations

from dataclasses import dataclass

from bots.messages import Command, Context, Reply
from bots.parsing import Arguments
from questrya.recommendations import service as recommendation_service
from questrya.recommendations.schemas import NextRead, PickRead

EMPTY_BACKLOG = "Your backlog is empty: add a game with /add Hades, then ask /next again."


@dataclass(frozen=True)
class NextArguments(Arguments):
    """/next's one option: the hours the player has, as typed; the service checks it."""

    hours: int | str | None = None


def hours_only(text: str) -> Arguments:
    """`/next 10`: everything is the hours; `/next` alone asks without a time limit."""
    return NextArguments(hours=text or None)


async def suggest_next(context: Context, arguments: Arguments) -> Reply:
    result = await recommendation_service.suggest_next(
        uow=context.uow_factory(),
        player_id=context.player_id,
        hours=arguments.hours if isinstance(arguments, NextArguments) else None,
    )
    return Reply(render_picks(result))


def render_picks(result: NextRead) -> str:
    """`Play next:` then one numbered line per pick: `1. Hades — Metacritic 93 · ~22 h`."""
    if not result.picks:
        return EMPTY_BACKLOG
    lines = [_pick_line(number, pick) for number, pick in enumerate(result.picks, start=1)]
    return "\n".join(["Play next:", *lines])


def _pick_line(number: int, pick: PickRead) -> str:
    return f"{number}. {pick.title} — {' · '.join(pick.reasons)}"


def next_commands() -> list[Command]:
    return [
        Command(
            "next",
            "/next [hours]",
            "/next 10",
            "what to play next from your backlog",
            hours_only,
            suggest_next,
        )
    ]
