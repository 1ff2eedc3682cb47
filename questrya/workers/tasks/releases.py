"""The nightly release-day job, scheduled by `questrya scheduler`."""

from __future__ import annotations

from questrya.common.clock import utc_now
from questrya.releases import service as release_service
from questrya.workers.runtime import JobContext, run_job


def announce_releases() -> int:
    """Tell players whose wishlisted games come out today (UTC); once per game and day."""

    async def work(context: JobContext) -> int:
        return await release_service.announce_releases(
            uow_factory=context.uow_factory, day=utc_now().date()
        )

    return run_job(work)
