"""What to play next."""

from __future__ import annotations

from bots.messages import Command


def next_commands() -> list[Command]:
    return []
