"""Jobs of the metadata slice."""

from __future__ import annotations

from questrya.metadata import service as metadata_service
from questrya.workers.runtime import JobContext, run_job


def fetch_game_metadata(game_id: int) -> str:
    """Look a game up in the games database and push what was found to its chat."""

    async def work(context: JobContext) -> str:
        return await metadata_service.fetch_for_game(
            uow_factory=context.uow_factory, provider=context.provider, game_id=game_id
        )

    return run_job(work)


def apply_chosen_facts(game_id: int, source_id: str) -> str:
    """Link a game to the candidate its player picked."""

    async def work(context: JobContext) -> str:
        return await metadata_service.apply_choice(
            uow_factory=context.uow_factory,
            provider=context.provider,
            game_id=game_id,
            source_id=source_id,
        )

    return run_job(work)
