"""Linking one player's accounts across platforms: /link asks for a code, /link CODE (typed on
the other account) makes both one player with one backlog, /unlink parts them again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bots import parsing
from bots.messages import Command, Context, Handler, Reply
from bots.parsing import Arguments
from questrya.common.clock import Clock, utc_now
from questrya.linking import service as link_service

PLATFORM_NAMES = {"telegram": "Telegram", "discord": "Discord", "console": "console"}


@dataclass(frozen=True)
class LinkArguments(Arguments):
    """/link's one option: the code from the other account, or None to ask for a code."""

    code: str | None = None


def code_only(text: str) -> Arguments:
    """`/link K7QM-4XPA` types a code; `/link` alone asks for one."""
    return LinkArguments(code=text or None)


def link_commands(clock: Clock = utc_now) -> list[Command]:
    """/link and /unlink; `clock` lets tests move time past a code's expiry."""
    return [
        Command(
            "link",
            "/link [code]",
            "/link K7QM-4XPA",
            "one backlog on Telegram and Discord: /link gives a code, type it on the other",
            code_only,
            _link_handler(clock),
        ),
        Command(
            "unlink",
            "/unlink",
            "/unlink",
            "give this account its own backlog again (a copy of the shared one)",
            parsing.no_arguments,
            _unlink_handler(clock),
        ),
    ]


def _link_handler(clock: Clock) -> Handler:
    async def link(context: Context, arguments: Arguments) -> Reply:
        code = arguments.code if isinstance(arguments, LinkArguments) else None
        if code:
            return await _join(context, code, clock)
        return await _ask_for_code(context, clock)

    return link


async def _ask_for_code(context: Context, clock: Clock) -> Reply:
    speaker = context.speaker
    issued = await link_service.issue_code(
        uow=context.uow_factory(),
        platform=speaker.platform,
        external_id=speaker.user_id,
        is_group=speaker.is_group,
        clock=clock,
    )
    return Reply(
        f"Your link code is {issued.code}. Within {issued.valid_minutes} minutes, type "
        f"/link {issued.code} on your other account to share one backlog."
    )


async def _join(context: Context, code: str, clock: Clock) -> Reply:
    speaker = context.speaker
    linked = await link_service.link_accounts(
        uow=context.uow_factory(),
        platform=speaker.platform,
        external_id=speaker.user_id,
        code=code,
        is_group=speaker.is_group,
        clock=clock,
    )
    both = f" ({linked.merged_count} you had on both, kept once)" if linked.merged_count else ""
    return Reply(
        f"Linked your {_named(linked.platforms)} accounts: they share one backlog of "
        f"{_games(linked.game_count)}{both}."
    )


def _unlink_handler(clock: Clock) -> Handler:
    async def unlink(context: Context, arguments: Arguments) -> Reply:
        speaker = context.speaker
        parted = await link_service.unlink_account(
            uow=context.uow_factory(),
            platform=speaker.platform,
            external_id=speaker.user_id,
            is_group=speaker.is_group,
            clock=clock,
        )
        return Reply(
            f"Unlinked this {_named([parted.platform])} account: it keeps its own copy of "
            f"your {_games(parted.game_count)}, apart from {_named(parted.remaining_platforms)}."
        )

    return unlink


def _named(platforms: Iterable[str]) -> str:
    names = [PLATFORM_NAMES.get(platform, platform) for platform in platforms]
    return " and ".join(names) if len(names) <= 2 else f"{', '.join(names[:-1])} and {names[-1]}"


def _games(count: int) -> str:
    return "1 game" if count == 1 else f"{count} games"
