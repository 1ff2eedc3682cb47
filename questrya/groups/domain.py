"""A group chat, its members and its feed. Pure Python.

Nothing of a player leaves a chat without their consent: sharing is off until the member turns
it on, and only the group's admins switch the feed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from questrya.common.errors import InvalidVote, NotGroupAdmin
from questrya.common.text import shorten
from questrya.common.values import ChatAddress, GameRating


@dataclass(eq=False)
class Membership:
    player_id: int
    joined_at: datetime
    shares: bool = False


@dataclass(eq=False)
class Group:
    """A group chat as Questrya knows it: who has spoken there, and whether its feed is on."""

    address: ChatAddress
    feed_enabled: bool = False
    members: dict[int, Membership] = field(default_factory=dict)

    def meet(self, player_id: int, *, on: datetime) -> Membership:
        """The player's membership, recorded the first time they speak in the group."""
        return self.members.setdefault(player_id, Membership(player_id, joined_at=on))

    def switch_feed(self, *, by: int, enabled: bool, is_admin: bool | None) -> None:
        """Turn the feed on or off. `is_admin` comes from the platform; where it has no admins
        (the console), the first member to have spoken is the admin."""
        if not (is_admin if is_admin is not None else self.founder_id == by):
            raise NotGroupAdmin("Only the group's admins can turn the feed on or off.")
        self.feed_enabled = enabled

    def set_sharing(self, player_id: int, *, shares: bool, on: datetime) -> None:
        self.meet(player_id, on=on).shares = shares

    @property
    def founder_id(self) -> int | None:
        earliest = min(
            self.members.values(), key=lambda m: (m.joined_at, m.player_id), default=None
        )
        return earliest.player_id if earliest else None

    def shares_of(self, player_id: int) -> bool:
        member = self.members.get(player_id)
        return member is not None and member.shares


# -- what to play together tonight ----------------------------------------------------------

# Telegram polls take 2 to 10 options (12 lately), Discord polls up to 10 answers.
MIN_POLL_OPTIONS = 2
MAX_POLL_OPTIONS = 10
MAX_POLL_OPTION_LENGTH = 55  # Discord's limit for an answer; Telegram allows 100


@dataclass(frozen=True)
class Holding:
    """One member's game that could be played together (in their backlog or wishlist)."""

    player_id: int
    title: str
    folded_title: str
    critic_score: int | None = None
    identified: bool = False  # its title is the games database's spelling


@dataclass(frozen=True)
class TonightPick:
    """A game several members have, and who has it."""

    title: str
    player_ids: tuple[int, ...]
    critic_score: int | None


def pick_for_tonight(
    holdings: Iterable[Holding], *, limit: int = MAX_POLL_OPTIONS
) -> list[TonightPick]:
    """Games that two or more members have: most members first, then the best critic score,
    then by title, so the same lists always give the same poll."""
    by_title: dict[str, list[Holding]] = {}
    for holding in holdings:
        by_title.setdefault(holding.folded_title, []).append(holding)
    picks = [_pick(same) for same in by_title.values()]
    shared = [pick for pick in picks if len(pick.player_ids) >= MIN_SHARED_BY]
    shared.sort(
        key=lambda pick: (-len(pick.player_ids), -(pick.critic_score or 0), pick.title.casefold())
    )
    return shared[:limit]


MIN_SHARED_BY = 2


def _pick(same_game: list[Holding]) -> TonightPick:
    scores = [h.critic_score for h in same_game if h.critic_score is not None]
    spelled = next((h for h in same_game if h.identified), same_game[0])
    return TonightPick(
        title=shorten(spelled.title, MAX_POLL_OPTION_LENGTH),
        player_ids=tuple(sorted({h.player_id for h in same_game})),
        critic_score=max(scores, default=None),
    )


@dataclass(eq=False)
class GroupPoll:
    """A vote among a group's members; each member has one vote and may change it."""

    address: ChatAddress
    question: str
    options: tuple[str, ...]
    created_by: int
    created_at: datetime
    votes: dict[int, int] = field(default_factory=dict)  # player id -> option index
    id: int | None = None

    def vote(self, player_id: int, number: int) -> None:
        """Record the member's vote for option `number`, counted from 1."""
        if not 1 <= number <= len(self.options):
            raise InvalidVote(f"Vote with a number from 1 to {len(self.options)}.")
        self.votes[player_id] = number - 1

    def tally(self) -> list[tuple[str, int]]:
        """Each option with its votes, in the poll's order."""
        counts = Counter(self.votes.values())
        return [(option, counts[index]) for index, option in enumerate(self.options)]


# -- what the feed says ---------------------------------------------------------------------


def completion_post(name: str, title: str, rating: GameRating | None, facts: str | None) -> str:
    """The feed's line for a completion; rated 7 or more, it is a recommendation."""
    if rating is not None and rating.is_recommended:
        return recommendation_post(name, title, rating, facts)
    rated = f" · {rating}" if rating else ""
    return f"🏁 {name} completed {title}{rated}."


def recommendation_post(name: str, title: str, rating: GameRating | None, facts: str | None) -> str:
    """`⭐ Bob recommends Celeste · 9/10`, then the game's facts when known."""
    rated = f" · {rating}" if rating else ""
    lines = [f"⭐ {name} recommends {title}{rated}"]
    if facts:
        lines.append(facts)
    return "\n".join(lines)
