"""Commands of group chats: the feed, sharing, recommendations, tonight's vote."""

from __future__ import annotations

from bots.messages import Command


def group_commands() -> list[Command]:
    return []
