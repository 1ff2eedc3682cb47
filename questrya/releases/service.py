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
    told = 0
    for game in wished:
        address = _added_in(game)
        if address is None or game.facts_id is None:
            continue
        await _tell(uow_factory, game, address, released[game.facts_id], day)
        told += 1
    return told


def _added_in(game: GameRead) -> ChatAddress | None:
    if game.added_in_platform is None or game.added_in_chat_id is None:
        return None
    return ChatAddress(game.added_in_platform, game.added_in_chat_id)


async def _tell(
    uow_factory: UnitOfWorkFactory,
    game: GameRead,
    address: ChatAddress,
    facts: GameFacts,
    day: date,
) -> None:
    names = await user_service.display_names(
        uow=uow_factory(), player_ids=[game.player_id], platform=address.platform
    )
    await notification_service.notify(
        uow=uow_factory(),
        event_key=job_id("release-day", game.id, day.isoformat()),
        address=address,
        text=release_day_message(
            names.get(game.player_id, "Hey"), game.title, describe_with_source(facts)
        ),
        image_url=facts.cover_url,
    )
