"""Turning a provider's answers into our terms: canonical platform names, and results ranked
by our own title matching rather than the provider's relevance order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rapidfuzz import fuzz

from questrya.common.text import fold
from questrya.common.values import Platform
from questrya.metadata.domain import GameFacts


def canonical_platforms(
    names: Iterable[str], provider_names: Mapping[str, Platform]
) -> tuple[str, ...]:
    """Our names for the platforms a provider lists, in its order, unknown ones dropped.

    `provider_names` holds the provider's spellings that `Platform.lookup` cannot read
    ("PC (Microsoft Windows)").
    """
    found: dict[str, None] = {}  # a dict keeps the first-seen order and drops repeats
    for name in names:
        platform = provider_names.get(name) or Platform.lookup(name)
        if platform is not None:
            found[platform.value] = None
    return tuple(found)


def rank_by_title(query: str, candidates: Sequence[GameFacts]) -> list[GameFacts]:
    """`candidates` best match first: the exact folded title, then closest by our measure.

    Every word of the query present ("witcher 3" in "The Witcher 3: Wild Hunt") counts before
    plain similarity; among equals the provider's order is kept (the sort is stable).
    """
    wanted = fold(query)

    def closeness(facts: GameFacts) -> tuple[bool, float, float]:
        title = fold(facts.title)
        return (
            title == wanted,
            fuzz.token_set_ratio(wanted, title),
            fuzz.ratio(wanted, title),
        )

    return sorted(candidates, key=closeness, reverse=True)
