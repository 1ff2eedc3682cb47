"""SqlUnitOfWork: one transaction per use case, rolled back unless committed; jobs after commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.jobs import JobRequest
from questrya.common.values import ChatAddress, Title
from questrya.games.domain import Game
from questrya.metadata.domain import GameFacts
from questrya.outbox.repository import SqlOutboxRepository
from questrya.unit_of_work import SqlUnitOfWork
from questrya.users.domain import AccountKey, Player
from tests.integration.conftest import RecordingJobQueue

ADA = AccountKey(platform="console", external_id="ada")
ADDRESS = ChatAddress(platform="telegram", chat_id="42")
HADES_FACTS = GameFacts(source="rawg", source_id="hades", title="Hades")
LOOKUP = JobRequest(
    function="questrya.workers.tasks.games.fetch_game_metadata",
    job_id="metadata:1",
    queue="metadata",
    args=(1,),
)


async def add_player_and_game(uow: SqlUnitOfWork) -> None:
    player = await uow.players.add(Player.first_seen(ADA, "Ada"))
    assert player.id is not None
    game = Game(player_id=player.id, title=Title("Hades"), added_at=datetime.now(UTC))
    await uow.games.add(game)


async def stored_titles(uow: SqlUnitOfWork) -> list[str]:
    async with uow:
        player = await uow.players.get_by_account(ADA)
        if player is None or player.id is None:
            return []
        return list((await uow.games.list_titles(player.id)).values())


async def test_commit_stores_the_work(uow: SqlUnitOfWork) -> None:
    async with uow:
        await add_player_and_game(uow)
        await uow.commit()

    assert await stored_titles(uow) == ["Hades"]


async def test_nothing_is_stored_unless_committed(uow: SqlUnitOfWork) -> None:
    async with uow:
        await add_player_and_game(uow)

    assert await stored_titles(uow) == []


async def fail_halfway(uow: SqlUnitOfWork) -> None:
    async with uow:
        await add_player_and_game(uow)
        raise RuntimeError("boom")


async def test_an_error_rolls_back_and_propagates(uow: SqlUnitOfWork) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await fail_halfway(uow)

    assert await stored_titles(uow) == []


async def test_a_nested_unit_joins_the_open_one_and_the_outer_one_ends_it(
    uow: SqlUnitOfWork,
) -> None:
    async with uow:
        await add_player_and_game(uow)
        async with uow:  # as a service called by another service opens it
            assert await uow.players.get_by_account(ADA) is not None  # sees the outer's work
        assert await uow.players.get_by_account(ADA) is not None  # still open after the inner

    assert await stored_titles(uow) == []  # never committed: the outer exit rolled it back


async def test_a_commit_inside_a_nested_unit_stores_the_work_and_the_unit_goes_on(
    uow: SqlUnitOfWork, job_queue: RecordingJobQueue
) -> None:
    async with uow:
        async with uow:
            await add_player_and_game(uow)
            uow.enqueue_after_commit(LOOKUP)
            await uow.commit()
        assert job_queue.jobs == [LOOKUP]
        assert await stored_titles(uow) == ["Hades"]  # same unit, reading on after the commit

    assert await stored_titles(uow) == ["Hades"]


async def add_then_fail_in_a_nested_unit(uow: SqlUnitOfWork) -> None:
    async with uow:
        await add_player_and_game(uow)
        async with uow:
            raise RuntimeError("boom")


async def test_an_error_inside_a_nested_unit_rolls_back_the_whole_unit(
    uow: SqlUnitOfWork,
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await add_then_fail_in_a_nested_unit(uow)

    assert await stored_titles(uow) == []


async def test_a_unit_that_failed_to_begin_can_begin_again(
    uow: SqlUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    begin = uow._begin

    async def refuse() -> None:
        raise asyncio.CancelledError  # as when the task waiting for a connection is cancelled

    monkeypatch.setattr(uow, "_begin", refuse)
    with pytest.raises(asyncio.CancelledError):
        async with uow:
            pass
    monkeypatch.setattr(uow, "_begin", begin)

    async with uow:
        await add_player_and_game(uow)
        await uow.commit()
    assert await stored_titles(uow) == ["Hades"]


async def test_jobs_are_queued_only_after_commit(
    uow: SqlUnitOfWork, job_queue: RecordingJobQueue
) -> None:
    async with uow:
        await add_player_and_game(uow)
        uow.enqueue_after_commit(LOOKUP)
        assert job_queue.jobs == []
        await uow.commit()

    assert job_queue.jobs == [LOOKUP]


async def test_jobs_of_a_rolled_back_unit_are_dropped(
    uow: SqlUnitOfWork, job_queue: RecordingJobQueue
) -> None:
    async with uow:
        uow.enqueue_after_commit(LOOKUP)

    async with uow:
        await uow.commit()

    assert job_queue.jobs == []


async def test_an_unreachable_queue_does_not_undo_the_commit(
    uow: SqlUnitOfWork, job_queue: RecordingJobQueue
) -> None:
    job_queue.unavailable = True
    async with uow:
        await add_player_and_game(uow)
        uow.enqueue_after_commit(LOOKUP)
        await uow.commit()

    assert job_queue.jobs == []
    assert await stored_titles(uow) == ["Hades"]


FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
NOTIFY = JobRequest(
    function="questrya.workers.tasks.notifications.deliver_notification",
    job_id="deliver-notification-1",
    queue="notifications",
    args=(1,),
)


async def outbox_job_ids(session_factory: async_sessionmaker[AsyncSession]) -> list[str]:
    async with session_factory() as session:
        jobs = await SqlOutboxRepository(session).list_pending(
            recorded_before=FAR_FUTURE, limit=100
        )
    return [job.job_id for job in jobs]


class OutboxPeekingJobQueue(RecordingJobQueue):
    """Looks in the outbox, from its own session, each time it is asked to queue a job."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__()
        self.outbox_at_enqueue: list[list[str]] = []
        self._session_factory = session_factory
        self._loop = loop

    def enqueue(self, job: JobRequest) -> None:
        # Called from the unit of work's thread, while the test's event loop waits on it.
        peek = asyncio.run_coroutine_threadsafe(outbox_job_ids(self._session_factory), self._loop)
        self.outbox_at_enqueue.append(peek.result(timeout=10))
        super().enqueue(job)


async def test_a_job_is_committed_to_the_outbox_before_it_is_queued_then_cleared(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    job_queue = OutboxPeekingJobQueue(session_factory, asyncio.get_running_loop())
    uow = SqlUnitOfWork(session_factory, job_queue)

    async with uow:
        await add_player_and_game(uow)
        uow.enqueue_after_commit(LOOKUP)
        uow.enqueue_after_commit(NOTIFY)
        await uow.commit()

    assert job_queue.jobs == [LOOKUP, NOTIFY]
    assert [sorted(ids) for ids in job_queue.outbox_at_enqueue] == [
        sorted([LOOKUP.job_id, NOTIFY.job_id]),
        sorted([LOOKUP.job_id, NOTIFY.job_id]),
    ]
    assert await outbox_job_ids(session_factory) == []


async def test_jobs_the_queue_refuses_stay_in_the_outbox_with_the_data_committed(
    uow: SqlUnitOfWork,
    job_queue: RecordingJobQueue,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    job_queue.unavailable = True
    async with uow:
        await add_player_and_game(uow)
        uow.enqueue_after_commit(LOOKUP)
        uow.enqueue_after_commit(NOTIFY)
        await uow.commit()

    assert job_queue.jobs == []
    assert sorted(await outbox_job_ids(session_factory)) == sorted([LOOKUP.job_id, NOTIFY.job_id])
    assert await stored_titles(uow) == ["Hades"]


async def test_a_job_asked_for_twice_is_recorded_once(
    uow: SqlUnitOfWork,
    job_queue: RecordingJobQueue,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    job_queue.unavailable = True
    async with uow:
        uow.enqueue_after_commit(LOOKUP)
        uow.enqueue_after_commit(LOOKUP)
        await uow.commit()

    assert await outbox_job_ids(session_factory) == [LOOKUP.job_id]


async def ask_for_a_job_then_fail(uow: SqlUnitOfWork) -> None:
    async with uow:
        await add_player_and_game(uow)
        uow.enqueue_after_commit(LOOKUP)
        raise RuntimeError("boom")


async def test_a_rolled_back_unit_leaves_nothing_in_the_outbox(
    uow: SqlUnitOfWork,
    job_queue: RecordingJobQueue,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await ask_for_a_job_then_fail(uow)

    async with uow:
        uow.enqueue_after_commit(LOOKUP)

    assert job_queue.jobs == []
    assert await outbox_job_ids(session_factory) == []
    assert await stored_titles(uow) == []


async def test_facts_notifications_and_outbox_share_the_units_transaction(
    uow: SqlUnitOfWork, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with uow:
        await uow.outbox.add(LOOKUP, on=datetime.now(UTC) - timedelta(seconds=1))
        await uow.notifications.disable(ADDRESS, reason="kicked", on=datetime.now(UTC))
        facts_id = await uow.facts.upsert(HADES_FACTS)
        assert await uow.notifications.is_disabled(ADDRESS)
        assert await uow.facts.get(facts_id) == HADES_FACTS

    async with uow:
        assert await uow.notifications.is_disabled(ADDRESS) is False
        assert (
            await uow.facts.list_for_refresh(
                source="rawg", not_refreshed_on=date(2025, 1, 1), after_id=0, limit=10
            )
            == []
        )
    assert await outbox_job_ids(session_factory) == []
