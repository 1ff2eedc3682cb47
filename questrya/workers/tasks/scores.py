"""The nightly job: refresh the critic scores of every known game."""

from __future__ import annotations

from questrya.common.clock import utc_now
from questrya.metadata import service as metadata_service
from questrya.workers.runtime import JobContext, run_job


def refresh_scores() -> dict[str, int]:
    """Refresh scores not yet refreshed today (UTC); running it twice a night does nothing more."""

    async def work(context: JobContext) -> dict[str, int]:
        refreshed = await metadata_service.refresh_scores(
            uow_factory=context.uow_factory, provider=context.provider, day=utc_now().date()
        )
        return refreshed.model_dump()

    return run_job(work)
