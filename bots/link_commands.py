"""Linking one player's accounts across platforms."""

from __future__ import annotations

from bots.messages import Command


def link_commands() -> list[Command]:
    return []
