"""Finding which of several titles a typed title means.

An exact folded match wins. Otherwise a fuzzy match is taken only when exactly one title is a
close match; when several are, or none, the caller gets the closest titles to offer, never a
silent guess.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from questrya.common.text import fold

CLOSE_MATCH_SCORE = 85
SUGGESTION_SCORE = 55
MAX_SUGGESTIONS = 5
MIN_WORDS_QUERY_LENGTH = 3


Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class TitleMatch(Generic[Key]):
    """The outcome of a lookup: the key of the one title meant, or the keys to offer instead:
    `close` when several titles are about equally close, `similar` when none is close."""

    key: Key | None
    close: tuple[Key, ...] = ()
    similar: tuple[Key, ...] = ()


def match_title(query_folded: str, titles: Mapping[Key, str]) -> TitleMatch[Key]:
    """Match a folded query against `titles` (key -> title), fuzzily."""
    folded = {key: fold(title) for key, title in titles.items()}
    close = [
        key
        for key, candidate in folded.items()
        if _closeness(query_folded, candidate) >= CLOSE_MATCH_SCORE
    ]
    if len(close) == 1:
        return TitleMatch(key=close[0])
    if close:
        by_title = sorted(close, key=lambda key: titles[key])[:MAX_SUGGESTIONS]
        return TitleMatch(key=None, close=tuple(by_title))
    return TitleMatch(key=None, similar=_similar(query_folded, folded))


def _closeness(query: str, candidate: str) -> float:
    """How surely `query` means `candidate`: a typo-level edit, or all of its words present."""
    # Whole words count ("zelda" in "The Legend of Zelda"), but a stray letter or two is no
    # evidence of which game was meant.
    if len(query) >= MIN_WORDS_QUERY_LENGTH and set(query.split()) <= set(candidate.split()):
        return 100.0
    return fuzz.ratio(query, candidate)


def _similar(query: str, folded: Mapping[Key, str]) -> tuple[Key, ...]:
    ranked = process.extract(
        query, folded, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS, score_cutoff=SUGGESTION_SCORE
    )
    return tuple(key for _, _, key in ranked)
