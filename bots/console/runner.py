"""Running a console session against a wired application."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

from bots.chat import build_router
from bots.console.app import ConsoleSession, console_speaker, input_lines

if TYPE_CHECKING:
    from questrya.bootstrap import App

INBOX_POLL_SECONDS = 0.5


async def run_console(app: App, *, user: str, chat: str | None, expect_worker: bool) -> None:
    """Read commands until end of input, printing replies and the messages pushed meanwhile;
    then wait (bounded) for the background work and print what it pushed."""
    speaker = console_speaker(user, chat)
    session = ConsoleSession(build_router(app.uow_factory), speaker, sys.stdout)
    printer = asyncio.create_task(_print_pushed_forever(app, session, speaker.chat_id))
    try:
        await session.run(input_lines())
    finally:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
    if not await app.wait_for_background_work(expect_worker=expect_worker):
        session.note("(background work is still pending: is a worker running?)")
    await _print_pushed(app, session, speaker.chat_id)


async def _print_pushed_forever(app: App, session: ConsoleSession, chat_id: str) -> None:
    while True:
        await asyncio.sleep(INBOX_POLL_SECONDS)
        await _print_pushed(app, session, chat_id)


async def _print_pushed(app: App, session: ConsoleSession, chat_id: str) -> None:
    messages = await app.take_console_messages(chat_id)
    if messages is None:
        session.note("(Redis is unreachable: pushed messages will show next time)")
        return
    for message in messages:
        session.show_pushed(message.text, [(o.label, o.command) for o in message.options])
