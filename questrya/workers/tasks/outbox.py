"""The outbox relay job, scheduled every minute by `questrya scheduler`."""

from __future__ import annotations

from questrya.outbox import service as outbox_service
from questrya.workers.queues import RqJobQueue
from questrya.workers.runtime import JobContext, job_redis, run_job


def relay_outbox() -> int:
    """Queue jobs whose queue was down when they were asked for."""
    job_queue = RqJobQueue(job_redis())

    async def work(context: JobContext) -> int:
        return await outbox_service.relay(uow=context.uow_factory(), job_queue=job_queue)

    return run_job(work)
