"""Running a console session against a wired application."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bots.chat import build_router
from bots.console.app import ConsoleSession, console_speaker, input_lines

if TYPE_CHECKING:
    from questrya.bootstrap import App


async def run_console(app: App, *, user: str, chat: str | None) -> None:
    """Read commands until end of input, printing each reply."""
    session = ConsoleSession(build_router(app.uow_factory), console_speaker(user, chat), sys.stdout)
    await session.run(input_lines())
