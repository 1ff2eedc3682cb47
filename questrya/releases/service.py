"""Use cases of release days: the nightly look for wishlisted games that came out today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from questrya.common.jobs import job_id
from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.games.schemas import GameRead
from questrya.metadata import service as metadata_service
from questrya.metadata.domain import GameFacts, describe_with_source
from questrya.notifications import service as notification_service
from questrya.releases.domain import release_day_message
from questrya.unit_of_work import UnitOfWork
from questrya.users import service as user_service

UnitOfWorkFactory = Callable[[], UnitOfWork]


async def announce_releases(*, uow_factory: UnitOfWorkFactory, day: date) -> int:
    """Tell every player who wishlisted a game first released on `day`, in the chat where
    they added it; once per game and day, however often this runs. Return how many."""
    released = await metadata_service.released_on(uow=uow_factory(), day=day)
    wished = await game_service.list_wishlisted_with_facts(uow=uow_factory(), facts_ids=released)
    to_tell = [
        (game, address, released[game.facts_id])
        for game in wished
        if (address := _added_in(game)) is not None and game.facts_id is not None
    ]
    names = await _names_by_platform(uow_factory, [(g.player_id, a) for g, a, _ in to_tell])
    for game, address, facts in to_tell:
        name = names[address.platform].get(game.player_id, "Hey")
        await _tell(uow_factory, game, address, facts, name=name, day=day)
    return len(to_tell)


async def _names_by_platform(
    uow_factory: UnitOfWorkFactory, players: list[tuple[int, ChatAddress]]
) -> dict[str, dict[int, str]]:
    """Each player's name on each platform told there: one query a platform, not a player."""
    by_platform: dict[str, set[int]] = {}
    for player_id, address in players:
        by_platform.setdefault(address.platform, set()).add(player_id)
    return {
        platform: await user_service.display_names(
            uow=uow_factory(), player_ids=player_ids, platform=platform
        )
        for platform, player_ids in by_platform.items()
    }


def _added_in(game: GameRead) -> ChatAddress | None:
    if game.added_in_platform is None or game.added_in_chat_id is None:
        return None
    return ChatAddress(game.added_in_platform, game.added_in_chat_id)


async def _tell(
    uow_factory: UnitOfWorkFactory,
    game: GameRead,
    address: ChatAddress,
    facts: GameFacts,
    *,
    name: str,
    day: date,
) -> None:
    await notification_service.notify(
        uow=uow_factory(),
        event_key=job_id("release-day", game.id, day.isoformat()),
        address=address,
        text=release_day_message(name, game.title, describe_with_source(facts)),
        image_url=facts.cover_url,
    )
