"""Ranking a player's backlog: which game to play next, and why. Pure Python.

A pick's score is a sum of points, one term per signal. Each term is near zero when its signal is
unknown, so a game the games database knows little about is neither rewarded nor punished.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from questrya.common.errors import InvalidHours
from questrya.common.text import clean_text, shorten
from questrya.common.values import GameStatus, Platform

# Games the player owns and has not finished: not started yet, or put on hold. Wishlist games are
# not owned yet, and a game being played is already the answer to "what now".
RANKED_STATUSES = frozenset({GameStatus.BACKLOG, GameStatus.PAUSED})

MIN_HOURS = 1
MAX_HOURS = 500  # about three weeks without sleep: more is a typo, not a plan
# "10", "10h", "10 hours"; a sign is accepted so that "-5" is refused as out of range.
_HOURS_TEXT = re.compile(r"([+-]?\d+)\s*(?:h|hrs?|hours?)?", re.IGNORECASE)
_MAX_HOURS_DIGITS = 6  # anything longer is out of range; never int() a 5,000-digit string

# Critic score: the strongest general signal that a game is worth the time, so it has the widest
# range; but alone it never outweighs a game not fitting the time the player said they have.
CRITIC_WEIGHT = 3.0
# Roughly the average critic score: an unknown score counts as this, neutral rather than zero.
NEUTRAL_CRITIC_SCORE = 70
# 95 earns the whole bonus and 45 the whole penalty; beyond, critics no longer tell games apart.
CRITIC_SPREAD = 25

# With hours given, fitting them is what the player asked for: worth as much as the best score.
FITS_BONUS = 3.0
# A game longer than the time given loses up to this much, the whole of it at twice the time, so
# a 60 h game for /next 10 ranks below any average game that fits, but 12 h loses only a little.
TOO_LONG_PENALTY = 4.0
# Without hours, a short game is easier to start and finish: a small nudge only, shrinking to
# nothing at SHORT_GAME_HOURS, so length never decides against a much better game.
SHORT_GAME_BONUS = 1.0
SHORT_GAME_HOURS = 30

# Waiting: a game waiting longer deserves its turn, with diminishing returns (a log), so a
# forgotten game rises slowly and a ten-year wait still counts less than a top critic score.
WAIT_WEIGHT = 0.6
WAIT_UNIT_DAYS = 30
SHOWN_WAIT_DAYS = 30  # a wait shorter than a month is no reason to mention
DAYS_PER_YEAR = 365

# The platform the player used last is the one at hand: a real convenience, but less important
# than how good the game is or whether it fits the evening.
RECENT_PLATFORM_BONUS = 1.5


@dataclass(frozen=True)
class Candidate:
    """A game of the player's backlog, with what is known about it (None: unknown)."""

    title: str
    added_at: datetime
    platform: Platform | None = None  # where the player owns it, if they said
    critic_score: int | None = None  # 0-100
    hours_to_beat: float | None = None
    facts_platforms: tuple[str, ...] = ()  # where the game is available, per the database


@dataclass(frozen=True)
class Pick:
    """A ranked game: its score (higher first) and the reasons to show, best signals first."""

    title: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Term:
    """One signal's points, and the reason to show for it (None: nothing worth saying)."""

    points: float
    reason: str | None = None


def rank(
    candidates: Iterable[Candidate],
    *,
    hours: int | None,
    now: datetime,
    recent_platform: Platform | None,
) -> list[Pick]:
    """Every candidate as a pick, best first; ties go to the game that has waited longest."""
    scored = [
        (_pick(candidate, hours=hours, now=now, recent_platform=recent_platform), candidate)
        for candidate in candidates
    ]
    scored.sort(key=lambda pair: (-pair[0].score, pair[1].added_at, pair[1].title.casefold()))
    return [pick for pick, _ in scored]


def parse_hours(raw: int | str | None) -> int | None:
    """The hours a player has, as typed ("10", "10h") or given (10); None when not given."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return _hours_from_text(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidHours(f"Hours are a whole number from {MIN_HOURS} to {MAX_HOURS}.")
    # str() of a huge int is slow, and refused past 4,300 digits: never write one out.
    too_long = abs(raw) >= 10**_MAX_HOURS_DIGITS
    return _hours_in_range(raw, "a number that long" if too_long else str(raw))


def played_platform(platform: Platform | None, facts_platforms: Iterable[str]) -> Platform | None:
    """The platform a game was played on: the player's own, else the only one it exists on.

    A game on several platforms does not say which one the player used; guessing would give
    nearly every game the recent-platform bonus.
    """
    if platform is not None:
        return platform
    known = {found for name in facts_platforms if (found := Platform.lookup(name)) is not None}
    return known.pop() if len(known) == 1 else None


def _pick(
    candidate: Candidate, *, hours: int | None, now: datetime, recent_platform: Platform | None
) -> Pick:
    days_waiting = max(0, (now - candidate.added_at).days)
    terms = (
        _critic_term(candidate.critic_score),
        _length_term(candidate.hours_to_beat, hours),
        _waiting_term(days_waiting),
        _platform_term(candidate, recent_platform),
    )
    reasons = tuple(term.reason for term in terms if term.reason is not None)
    return Pick(
        title=candidate.title,
        score=sum(term.points for term in terms),
        # Every pick gets a reason: with no signal worth saying, how long it has waited.
        reasons=reasons or (_waited(days_waiting),),
    )


def _critic_term(critic_score: int | None) -> _Term:
    if critic_score is None:
        return _Term(0.0)
    spread = (critic_score - NEUTRAL_CRITIC_SCORE) / CRITIC_SPREAD
    points = CRITIC_WEIGHT * max(-1.0, min(1.0, spread))
    return _Term(points, f"Metacritic {critic_score}" if points > 0 else None)


def _length_term(hours_to_beat: float | None, hours: int | None) -> _Term:
    if hours_to_beat is None:
        return _Term(0.0)
    # Compared as shown ("~22 h"), so a reply never says a game it calls "~22 h" misses 22 h.
    length = max(1, round(hours_to_beat))
    if hours is None:
        bonus = SHORT_GAME_BONUS * max(0.0, 1 - length / SHORT_GAME_HOURS)
        return _Term(bonus, f"~{length} h" if bonus > 0 else None)
    if length <= hours:
        return _Term(FITS_BONUS, f"fits your {hours} h (~{length} h)")
    overshoot = min(1.0, math.log2(length / hours))
    return _Term(-TOO_LONG_PENALTY * overshoot, f"longer than your {hours} h (~{length} h)")


def _waiting_term(days: int) -> _Term:
    points = WAIT_WEIGHT * math.log1p(days / WAIT_UNIT_DAYS)
    return _Term(points, _waited(days) if days >= SHOWN_WAIT_DAYS else None)


def _platform_term(candidate: Candidate, recent_platform: Platform | None) -> _Term:
    if recent_platform is None or not _available_on(candidate, recent_platform):
        return _Term(0.0)
    return _Term(RECENT_PLATFORM_BONUS, f"on your {recent_platform.value}")


def _available_on(candidate: Candidate, platform: Platform) -> bool:
    """Owned on `platform`; or, when the player did not say where they own it, released there."""
    if candidate.platform is not None:
        return candidate.platform is platform
    return any(Platform.lookup(name) is platform for name in candidate.facts_platforms)


def _waited(days: int) -> str:
    """How long a game has waited: "waiting 140 days", "waiting 2 years", "added today"."""
    if days == 0:
        return "added today"
    if days < DAYS_PER_YEAR:
        return f"waiting {days} day{'s' if days != 1 else ''}"
    years = days // DAYS_PER_YEAR
    return f"waiting {years} year{'s' if years != 1 else ''}"


def _hours_from_text(text: str) -> int | None:
    cleaned = clean_text(text)
    if not cleaned:
        return None
    match = _HOURS_TEXT.fullmatch(cleaned)
    if match is None:
        raise InvalidHours(
            f"Hours are a whole number from {MIN_HOURS} to {MAX_HOURS}, "
            f'not "{shorten(cleaned, 20)}".'
        )
    number = match.group(1)
    if len(number.lstrip("+-")) > _MAX_HOURS_DIGITS:
        return _hours_in_range(MAX_HOURS + 1, shorten(number, 12))
    return _hours_in_range(int(number), number)


def _hours_in_range(hours: int, as_typed: str) -> int:
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise InvalidHours(f"Hours are from {MIN_HOURS} to {MAX_HOURS}, not {as_typed}.")
    return hours
