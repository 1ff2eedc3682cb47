"""Storage of jobs that are not yet known to be queued."""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.common.jobs import JobRequest
from questrya.orm.models import JobOutboxRow, insert_built_once, table_of


class OutboxRepository(abc.ABC):
    @abc.abstractmethod
    async def add(self, job: JobRequest, *, on: datetime) -> None:
        """Record a job to queue; recording the same job id twice keeps one record."""

    @abc.abstractmethod
    async def remove(self, job_ids: Collection[str]) -> None:
        """Forget jobs that are now queued."""

    @abc.abstractmethod
    async def list_pending(self, *, recorded_before: datetime, limit: int) -> list[JobRequest]:
        """Jobs recorded before a moment and still not known to be queued, oldest first."""


class SqlOutboxRepository(OutboxRepository):
    """The job outbox stored with SQLAlchemy, in the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, job: JobRequest, *, on: datetime) -> None:
        await self._session.execute(
            _RECORD_JOB(self._session),
            {
                "job_id": job.job_id,
                "function": job.function,
                "queue": job.queue,
                "args": list(job.args),
                "recorded_at": on,
            },
        )

    async def remove(self, job_ids: Collection[str]) -> None:
        if job_ids:
            await self._session.execute(_FORGET_JOBS, {"job_ids": list(job_ids)})

    async def list_pending(self, *, recorded_before: datetime, limit: int) -> list[JobRequest]:
        rows = await self._session.scalars(
            select(JobOutboxRow)
            .where(JobOutboxRow.recorded_at < recorded_before)
            .order_by(JobOutboxRow.recorded_at, JobOutboxRow.job_id)
            .limit(limit)
        )
        return [_to_domain(row) for row in rows]


# Built once: every /add and /done records a job, then forgets it once queued. On the table, not
# the ORM class: the session has no outbox objects to keep in step with them.
_OUTBOX = table_of(JobOutboxRow)
_RECORD_JOB = insert_built_once(
    lambda insert: insert(_OUTBOX).on_conflict_do_nothing(index_elements=[_OUTBOX.c.job_id])
)
_FORGET_JOBS = delete(_OUTBOX).where(_OUTBOX.c.job_id.in_(bindparam("job_ids", expanding=True)))


def _to_domain(row: JobOutboxRow) -> JobRequest:
    return JobRequest(
        function=row.function, job_id=row.job_id, queue=row.queue, args=tuple(row.args)
    )
