"""SqlOutboxRepository against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.jobs import JobRequest
from questrya.outbox.repository import SqlOutboxRepository

SessionFactory = async_sessionmaker[AsyncSession]
NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOON + timedelta(days=1)


@asynccontextmanager
async def outbox_in(session_factory: SessionFactory) -> AsyncIterator[SqlOutboxRepository]:
    """A repository on a fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield SqlOutboxRepository(session)
        await session.commit()


def a_job(job_id: str, *args: object) -> JobRequest:
    return JobRequest(
        function="questrya.workers.tasks.metadata.fetch_game_metadata",
        job_id=job_id,
        queue="metadata",
        args=args,
    )


async def pending(session_factory: SessionFactory, limit: int = 100) -> list[JobRequest]:
    async with outbox_in(session_factory) as outbox:
        return await outbox.list_pending(recorded_before=LATER, limit=limit)


async def test_a_recorded_job_round_trips(session_factory: SessionFactory) -> None:
    job = a_job("metadata:7", 7, "doom-2016", None, 1.5)

    async with outbox_in(session_factory) as outbox:
        await outbox.add(job, on=NOON)

    assert await pending(session_factory) == [job]
    [loaded] = await pending(session_factory)
    assert isinstance(loaded.args, tuple)


async def test_a_job_without_arguments_round_trips(session_factory: SessionFactory) -> None:
    job = JobRequest(function="questrya.workers.tasks.scores.refresh", job_id="n", queue="scores")

    async with outbox_in(session_factory) as outbox:
        await outbox.add(job, on=NOON)

    assert await pending(session_factory) == [job]


async def test_recording_a_job_twice_keeps_one(session_factory: SessionFactory) -> None:
    async with outbox_in(session_factory) as outbox:
        await outbox.add(a_job("metadata:1", 1), on=NOON)
        await outbox.add(a_job("metadata:1", 1), on=NOON + timedelta(seconds=1))
    async with outbox_in(session_factory) as outbox:
        await outbox.add(a_job("metadata:1", 1), on=NOON + timedelta(seconds=2))

    assert await pending(session_factory) == [a_job("metadata:1", 1)]


async def test_list_pending_is_oldest_first_and_limited(session_factory: SessionFactory) -> None:
    async with outbox_in(session_factory) as outbox:
        for minutes, job_id in [(3, "c"), (1, "a"), (4, "d"), (2, "b")]:
            await outbox.add(a_job(job_id), on=NOON + timedelta(minutes=minutes))

    assert [job.job_id for job in await pending(session_factory, limit=3)] == ["a", "b", "c"]


async def test_list_pending_leaves_out_jobs_recorded_at_or_after_the_moment(
    session_factory: SessionFactory,
) -> None:
    tokyo = timezone(timedelta(hours=9))
    async with outbox_in(session_factory) as outbox:
        await outbox.add(a_job("old"), on=NOON - timedelta(microseconds=1))
        await outbox.add(a_job("on-the-dot"), on=NOON)
        await outbox.add(a_job("new"), on=NOON + timedelta(minutes=1))

    async with outbox_in(session_factory) as outbox:
        before_noon = await outbox.list_pending(recorded_before=NOON, limit=10)
        # The same instant written in another zone is the same boundary.
        before_noon_in_tokyo = await outbox.list_pending(
            recorded_before=NOON.astimezone(tokyo), limit=10
        )

    assert [job.job_id for job in before_noon] == ["old"]
    assert [job.job_id for job in before_noon_in_tokyo] == ["old"]


async def test_remove_forgets_only_the_given_jobs(session_factory: SessionFactory) -> None:
    async with outbox_in(session_factory) as outbox:
        for n, job_id in enumerate(["a", "b", "c"]):
            await outbox.add(a_job(job_id), on=NOON + timedelta(minutes=n))

    async with outbox_in(session_factory) as outbox:
        await outbox.remove(["a", "c", "never-recorded"])
        await outbox.remove([])

    assert [job.job_id for job in await pending(session_factory)] == ["b"]
