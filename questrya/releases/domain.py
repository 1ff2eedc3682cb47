"""What a player is told on the release day of a game they wished for. Pure Python."""

from __future__ import annotations


def release_day_message(name: str, title: str, facts: str | None) -> str:
    """`🎉 Alice, Hades II is out today: it's on your wishlist.` then the facts, then what next."""
    lines = [f"🎉 {name}, {title} is out today: it's on your wishlist."]
    if facts:
        lines.append(facts)
    lines.append(f"Got it? /add {title} moves it to your backlog.")
    return "\n".join(lines)
