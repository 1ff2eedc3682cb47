"""Finding which of a player's games a typed title means.

An exact folded match wins. Otherwise a fuzzy match is taken only when exactly one title is a
close match; when several are, or none, the caller gets the closest titles to offer, never a
silent guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from questrya.common.text import fold

CLOSE_MATCH_SCORE = 85
SUGGESTION_SCORE = 55
MAX_SUGGESTIONS = 5
MIN_WORDS_QUERY_LENGTH = 3


@dataclass(frozen=True)
class TitleMatch:
    """The outcome of a lookup: one game id, or the titles to offer instead."""

    game_id: int | None
    close_titles: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()


def match_title(query_folded: str, titles: dict[int, str]) -> TitleMatch:
    """Match a folded query against `titles` (game id -> title), fuzzily."""
    folded = {game_id: fold(title) for game_id, title in titles.items()}
    close = [
        game_id
        for game_id, candidate in folded.items()
        if _closeness(query_folded, candidate) >= CLOSE_MATCH_SCORE
    ]
    if len(close) == 1:
        return TitleMatch(game_id=close[0])
    if close:
        close_titles = sorted(titles[game_id] for game_id in close)[:MAX_SUGGESTIONS]
        return TitleMatch(game_id=None, close_titles=tuple(close_titles))
    return TitleMatch(game_id=None, suggestions=_suggestions(query_folded, folded, titles))


def _closeness(query: str, candidate: str) -> float:
    """How surely `query` means `candidate`: a typo-level edit, or all of its words present."""
    # Whole words count ("zelda" in "The Legend of Zelda"), but a stray letter or two is no
    # evidence of which game was meant.
    if len(query) >= MIN_WORDS_QUERY_LENGTH and set(query.split()) <= set(candidate.split()):
        return 100.0
    return fuzz.ratio(query, candidate)


def _suggestions(query: str, folded: dict[int, str], titles: dict[int, str]) -> tuple[str, ...]:
    ranked = process.extract(
        query, folded, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS, score_cutoff=SUGGESTION_SCORE
    )
    return tuple(titles[game_id] for _, _, game_id in ranked)
