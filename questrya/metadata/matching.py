"""Choosing which of a provider's search results is the game the player meant."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from questrya.common.matching import match_title
from questrya.common.text import fold
from questrya.metadata.domain import GameFacts

MAX_CANDIDATES = 5
# Catalogs tell remakes apart by a year in the title: "Doom (2016)" is also a "Doom".
_TRAILING_YEAR = re.compile(r"\s*\((19|20)\d\d\)$")


class Verdict(enum.StrEnum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    found: GameFacts | None = None
    candidates: tuple[GameFacts, ...] = ()


def decide(title: str, results: Sequence[GameFacts]) -> Decision:
    """One exact (or single close) match is taken; several are offered; none is none."""
    query = fold(title)
    exact = [facts for facts in results if query in _folded_names(facts)]
    if len(exact) == 1:
        return Decision(Verdict.FOUND, found=exact[0])
    if exact:
        return Decision(Verdict.AMBIGUOUS, candidates=tuple(exact[:MAX_CANDIDATES]))
    match = match_title(query, {index: facts.title for index, facts in enumerate(results)})
    if match.key is not None:
        return Decision(Verdict.FOUND, found=results[match.key])
    if match.close:
        close = tuple(results[index] for index in match.close)
        return Decision(Verdict.AMBIGUOUS, candidates=close[:MAX_CANDIDATES])
    return Decision(Verdict.NONE)


def _folded_names(facts: GameFacts) -> set[str]:
    bare_title = _TRAILING_YEAR.sub("", facts.title)
    return {fold(facts.title), fold(bare_title), *(fold(alias) for alias in facts.aliases)}
