"""Jobs of the groups slice."""

from __future__ import annotations

from questrya.groups import service as group_service
from questrya.workers.runtime import JobContext, run_job


def announce_completion(game_id: int, completed_at: str) -> int:
    """Post one completion to the feeds its player shares to; once per feed, however often run."""

    async def work(context: JobContext) -> int:
        return await group_service.announce_completion(
            uow_factory=context.uow_factory, game_id=game_id, completed_at=completed_at
        )

    return run_job(work)
