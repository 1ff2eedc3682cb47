"""The outbox relay: queue jobs whose queue was unreachable when their data was committed."""

from __future__ import annotations

from datetime import timedelta

from questrya.common.clock import Clock, utc_now
from questrya.common.jobs import JobQueue
from questrya.unit_of_work import UnitOfWork, queue_jobs

# A committing process queues its own jobs a moment after commit; leave those to it.
GRACE = timedelta(seconds=30)
BATCH_SIZE = 500


async def relay(
    *, uow: UnitOfWork, job_queue: JobQueue, clock: Clock = utc_now, grace: timedelta = GRACE
) -> int:
    """Queue one batch of jobs left in the outbox; return how many were queued.

    No transaction is open while Redis is asked: a slow or hung Redis must not hold the
    database (on SQLite, the one write lock every process waits for).
    """
    async with uow:
        pending = await uow.outbox.list_pending(recorded_before=clock() - grace, limit=BATCH_SIZE)
    queued = await queue_jobs(job_queue, pending)
    if queued:
        async with uow:
            await uow.outbox.remove(queued)
            await uow.commit()
    return len(queued)
