"""SqlUnitOfWork: one transaction per use case, rolled back unless committed; jobs after commit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from questrya.common.jobs import JobRequest
from questrya.common.values import Title
from questrya.games.domain import Game
from questrya.unit_of_work import SqlUnitOfWork
from questrya.users.domain import AccountKey, Player
from tests.integration.conftest import RecordingJobQueue

ADA = AccountKey(platform="console", external_id="ada")
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
