"""Service results as plain chat text. Adapters escape it for their platform's markup."""

from __future__ import annotations

from questrya.games.schemas import BacklogPageRead, GameRead, StatsRead

STATUS_MARKS = {
    "playing": "▶",
    "paused": "⏸",
    "backlog": "•",
    "wishlist": "☆",
    "completed": "✓",
    "abandoned": "✗",
}
STATUS_ORDER = ("playing", "paused", "backlog", "wishlist", "completed", "abandoned")


def game_line(game: GameRead) -> str:
    """`✓ Hades · PC — completed · 9/10`"""
    name = f"{game.title} · {game.platform}" if game.platform else game.title
    line = f"{STATUS_MARKS.get(game.status, '•')} {name} — {game.status}"
    return f"{line} · {game.rating}/10" if game.rating else line


def backlog_page(page: BacklogPageRead) -> str:
    if not page.games:
        return _empty_page(page)
    heading = f"Your games — {page.status}, page {page.page}:"
    return "\n".join([heading, *(game_line(game) for game in page.games)])


def _empty_page(page: BacklogPageRead) -> str:
    if page.page > 1:
        return f"Page {page.page} of your {page.status} games is empty; see /backlog {page.status}."
    if page.status == "open":
        return "Nothing to play: your backlog is empty. Add a game with /add Hades."
    if page.status == "all":
        return "Your list is empty. Add a game with /add Hades."
    return f"You have no {page.status} games. See everything with /backlog all."


def stats(numbers: StatsRead) -> str:
    if numbers.total == 0:
        return "No games yet. Add one with /add Hades."
    counts = ", ".join(
        f"{numbers.by_status[status]} {status}"
        for status in STATUS_ORDER
        if numbers.by_status.get(status)
    )
    games = "1 game" if numbers.total == 1 else f"{numbers.total} games"
    parts = [f"{games}: {counts}"]
    parts.append(f"{numbers.completed_this_year} completed this year")
    if numbers.average_rating is not None:
        parts.append(f"average rating {numbers.average_rating:.1f} ({numbers.rated_count} rated)")
    return " · ".join(parts)


def rated_title(game: GameRead) -> str:
    return f"{game.title} · {game.rating}/10" if game.rating else game.title
