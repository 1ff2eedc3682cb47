"""The unit of work: one transaction per use case, rolled back unless committed.

Units nest: a service that opens the unit its caller has open joins the caller's transaction,
so a use case made of other use cases (a command and the player lookup before it, /next's three
reads) is one transaction, and only the outermost `async with` ends it.

Jobs asked for during the unit are written to the outbox in the same transaction and queued only
after the commit succeeds, so a worker never looks for a row that is not there yet, and a job
whose queue was down at commit time is still queued later by the outbox relay.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.clock import Clock, utc_now
from questrya.common.jobs import JobQueue, JobQueueUnavailable, JobRequest
from questrya.games.repository import GameRepository, SqlGameRepository
from questrya.groups.repository import GroupRepository, SqlGroupRepository
from questrya.linking.repository import LinkRepository, SqlLinkRepository
from questrya.metadata.repository import FactsRepository, SqlFactsRepository
from questrya.notifications.repository import NotificationRepository, SqlNotificationRepository
from questrya.outbox.repository import OutboxRepository, SqlOutboxRepository
from questrya.users.repository import PlayerRepository, SqlPlayerRepository

log = logging.getLogger(__name__)


class UnitOfWork(abc.ABC):
    """Repositories sharing one transaction; `async with uow:` then `await uow.commit()`."""

    games: GameRepository
    players: PlayerRepository
    groups: GroupRepository
    links: LinkRepository
    facts: FactsRepository
    notifications: NotificationRepository
    outbox: OutboxRepository

    def __init__(self, job_queue: JobQueue, clock: Clock = utc_now) -> None:
        self._job_queue = job_queue
        self._clock = clock
        self._pending_jobs: list[JobRequest] = []
        self._depth = 0

    async def __aenter__(self) -> Self:
        if self._depth == 0:
            self._pending_jobs = []
            await self._begin()  # counted only once begun: a failed begin leaves no unit open
        self._depth += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth:
            return
        await self._end()

    def enqueue_after_commit(self, job: JobRequest) -> None:
        """Queue `job` once this unit commits; dropped if it rolls back."""
        self._pending_jobs.append(job)

    async def commit(self) -> None:
        """Commit once; then queue the jobs asked for and clear them from the outbox."""
        jobs, self._pending_jobs = self._pending_jobs, []
        for job in jobs:
            await self.outbox.add(job, on=self._clock())
        await self._commit()
        queued = await queue_jobs(self._job_queue, jobs)
        if queued:
            await self._clear_from_outbox(queued)

    async def _clear_from_outbox(self, job_ids: list[str]) -> None:
        """Forget the records of jobs now queued. The use case has succeeded by now, so a
        failure here (the database restarting, the SQLite lock not coming in time) is only
        logged: the relay finds those jobs queued already and clears their records."""
        try:
            await self.outbox.remove(job_ids)
            await self._commit()
        except SQLAlchemyError as error:
            log.warning("%d queued job(s) left in the outbox: %s", len(job_ids), error)
            with contextlib.suppress(SQLAlchemyError):
                await self.rollback()

    @abc.abstractmethod
    async def rollback(self) -> None: ...

    @abc.abstractmethod
    async def _begin(self) -> None: ...

    @abc.abstractmethod
    async def _commit(self) -> None: ...

    async def _end(self) -> None:
        """Roll back whatever is left since the last commit (most often nothing), and release
        what the unit holds."""
        await self.rollback()


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on one SQLAlchemy session: one database transaction."""

    _session: AsyncSession

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], job_queue: JobQueue
    ) -> None:
        super().__init__(job_queue)
        self._session_factory = session_factory

    async def rollback(self) -> None:
        await self._session.rollback()

    async def _begin(self) -> None:
        self._session = self._session_factory()
        self.games = SqlGameRepository(self._session)
        self.players = SqlPlayerRepository(self._session)
        self.groups = SqlGroupRepository(self._session)
        self.links = SqlLinkRepository(self._session)
        self.facts = SqlFactsRepository(self._session)
        self.notifications = SqlNotificationRepository(self._session)
        self.outbox = SqlOutboxRepository(self._session)

    async def _commit(self) -> None:
        await self._session.commit()

    async def _end(self) -> None:
        # Closing ends the session's transaction, rolled back, if one is open: one step where
        # a rollback then a close took two, on every command.
        await self._session.close()


async def queue_jobs(job_queue: JobQueue, jobs: list[JobRequest]) -> list[str]:
    """Queue `jobs` in order, stopping at the first the queue refuses; return the queued ids."""
    queued: list[str] = []
    for job in jobs:
        try:
            # redis-py is blocking; a thread keeps a slow or absent Redis off the event loop.
            await asyncio.to_thread(job_queue.enqueue, job)
        except JobQueueUnavailable:
            log.warning("queue unavailable: %d job(s) stay in the outbox", len(jobs) - len(queued))
            break
        queued.append(job.job_id)
    return queued
