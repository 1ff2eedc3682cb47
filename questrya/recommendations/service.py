"""Use cases of recommendations: what to play next from the player's own backlog (/next)."""

from __future__ import annotations

from collections.abc import Mapping

from questrya.common.clock import Clock, utc_now
from questrya.common.values import Platform
from questrya.games import service as game_service
from questrya.games.schemas import GameRead
from questrya.metadata import service as metadata_service
from questrya.metadata.domain import GameFacts
from questrya.recommendations.domain import (
    RANKED_STATUSES,
    Candidate,
    Pick,
    parse_hours,
    played_platform,
    rank,
)
from questrya.recommendations.schemas import NextRead, PickRead
from questrya.unit_of_work import UnitOfWork

PICKS_SHOWN = 3


async def suggest_next(
    *, uow: UnitOfWork, player_id: int, hours: int | str | None = None, clock: Clock = utc_now
) -> NextRead:
    """The best games of the player's backlog and paused games, for the time they have."""
    available = parse_hours(hours)  # before any query: bad input costs nothing
    async with uow:  # one transaction for the three reads: they see the same list
        waiting = await game_service.list_with_statuses(
            uow=uow, player_id=player_id, statuses=RANKED_STATUSES
        )
        if not waiting:
            return NextRead(hours=available, picks=[])
        last_played = await game_service.get_last_played(uow=uow, player_id=player_id)
        facts = await metadata_service.facts_for(
            uow=uow, facts_ids=_facts_ids(*waiting, last_played)
        )
    picks = rank(
        [_candidate(game, facts) for game in waiting],
        hours=available,
        now=clock(),
        recent_platform=_recent_platform(last_played, facts),
    )
    return NextRead(hours=available, picks=[_read(pick) for pick in picks[:PICKS_SHOWN]])


def _facts_ids(*games: GameRead | None) -> set[int]:
    """The facts to load, in one query: the ranked games' and the last played game's."""
    return {game.facts_id for game in games if game is not None and game.facts_id is not None}


def _candidate(game: GameRead, facts: Mapping[int, GameFacts]) -> Candidate:
    known = facts.get(game.facts_id) if game.facts_id is not None else None
    return Candidate(
        title=game.title,
        added_at=game.added_at,
        platform=_platform(game),
        critic_score=known.critic_score if known else None,
        hours_to_beat=known.hours_to_beat if known else None,
        facts_platforms=known.platforms if known else (),
    )


def _recent_platform(game: GameRead | None, facts: Mapping[int, GameFacts]) -> Platform | None:
    if game is None:
        return None
    known = facts.get(game.facts_id) if game.facts_id is not None else None
    return played_platform(_platform(game), known.platforms if known else ())


def _platform(game: GameRead) -> Platform | None:
    return Platform.lookup(game.platform) if game.platform else None


def _read(pick: Pick) -> PickRead:
    return PickRead(title=pick.title, score=pick.score, reasons=list(pick.reasons))
