"""A dress rehearsal of the frequent jobs in the worker process, before it forks a work horse.

SQLAlchemy compiles a statement the first time it runs and caches the result on the engine. RQ
forks a fresh work horse for every job, so a horse forked from a cold worker compiles all of its
job's statements again, every time: a quarter of a metadata job. Horses forked after the
rehearsal inherit the compiled statements instead.

The rehearsal runs the real use cases on the real engine inside one transaction that is rolled
back: it queues no job, sends no message, asks no games database and leaves no row behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from questrya.common.jobs import JobRequest
from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.metadata import service as metadata_service
from questrya.metadata.providers.offline import OfflineCatalog, catalog_titles
from questrya.notifications import service as notification_service
from questrya.notifications.domain import Notification
from questrya.unit_of_work import SqlUnitOfWork, UnitOfWork
from questrya.users import service as user_service

REHEARSAL_CHAT = ChatAddress("console", "questrya-worker-rehearsal")
# Not in the bundled catalog: its lookup takes the "not found" path.
UNKNOWN_TITLE = "Questrya Worker Rehearsal"

log = logging.getLogger(__name__)


class _CollectingQueue:
    """Keeps the jobs asked for, so the rehearsal can run them itself; queues nothing."""

    def __init__(self) -> None:
        self.jobs: list[JobRequest] = []

    def enqueue(self, job: JobRequest) -> None:
        self.jobs.append(job)


class _SilentSender:
    """Accepts every notification of the rehearsal's chat and sends nothing."""

    platform = REHEARSAL_CHAT.platform

    async def send(self, notification: Notification) -> None:
        """Nothing to send: the rehearsal only needs the statements around a delivery."""

    async def aclose(self) -> None:
        """No connection to close."""


_SILENT_SENDERS = {REHEARSAL_CHAT.platform: _SilentSender()}


async def rehearse_jobs(engine: AsyncEngine) -> None:
    """Run a metadata lookup (found and not found) and its deliveries, then roll it all back
    and close the connection, so that the process forks with no connection open. A failure is
    only logged: the horses then compile for themselves, as they would without a rehearsal."""
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                await _rehearse(connection)
            finally:
                await transaction.rollback()
    except SQLAlchemyError as error:
        log.warning("worker rehearsal skipped, jobs start cold: %s", error)
    finally:
        await engine.dispose()


def _units_of_work_inside(
    connection: AsyncConnection, queue: _CollectingQueue
) -> Callable[[], UnitOfWork]:
    # Each unit's commit releases a savepoint inside the outer transaction, which is rolled back.
    sessions = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return lambda: SqlUnitOfWork(sessions, queue)


async def _rehearse(connection: AsyncConnection) -> None:
    """A player adds a catalog game and an unknown one; every job that follows runs in turn."""
    queue = _CollectingQueue()
    uow_factory = _units_of_work_inside(connection, queue)
    player = await user_service.register(
        uow=uow_factory(),
        platform=REHEARSAL_CHAT.platform,
        external_id=REHEARSAL_CHAT.chat_id,
        display_name="rehearsal",
    )
    for title in (catalog_titles()[0], UNKNOWN_TITLE):
        await game_service.add_to_backlog(
            uow=uow_factory(), player_id=player.id, title=title, added_in=REHEARSAL_CHAT
        )
    for job in queue.jobs:  # grows as the jobs run: a lookup queues its delivery
        await _run(job, uow_factory)


async def _run(job: JobRequest, uow_factory: Callable[[], UnitOfWork]) -> None:
    (record_id,) = job.args
    if job.function == game_service.FETCH_METADATA_JOB:
        await metadata_service.fetch_for_game(
            uow_factory=uow_factory, provider=OfflineCatalog(), game_id=record_id
        )
    elif job.function == notification_service.DELIVER_JOB:
        await notification_service.deliver(
            uow=uow_factory(), notification_id=record_id, senders=_SILENT_SENDERS
        )
