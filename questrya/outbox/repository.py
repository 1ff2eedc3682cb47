"""Storage of jobs that are not yet known to be queued."""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.common.jobs import JobRequest
from questrya.orm.models import JobOutboxRow, dialect_insert


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
            dialect_insert(self._session, JobOutboxRow)
            .values(
                job_id=job.job_id,
                function=job.function,
                queue=job.queue,
                args=list(job.args),
                recorded_at=on,
            )
            .on_conflict_do_nothing(index_elements=[JobOutboxRow.job_id])
        )

    async def remove(self, job_ids: Collection[str]) -> None:
        if job_ids:
            await self._session.execute(
                delete(JobOutboxRow).where(JobOutboxRow.job_id.in_(job_ids))
            )

    async def list_pending(self, *, recorded_before: datetime, limit: int) -> list[JobRequest]:
        rows = await self._session.scalars(
            select(JobOutboxRow)
            .where(JobOutboxRow.recorded_at < recorded_before)
            .order_by(JobOutboxRow.recorded_at, JobOutboxRow.job_id)
            .limit(limit)
        )
        return [_to_domain(row) for row in rows]


def _to_domain(row: JobOutboxRow) -> JobRequest:
    return JobRequest(
        function=row.function, job_id=row.job_id, queue=row.queue, args=tuple(row.args)
    )
