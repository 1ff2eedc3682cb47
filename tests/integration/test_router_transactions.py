"""The router on the real database: one transaction per command, and none open while it waits
on the platform."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bots.chat import build_router
from bots.messages import Speaker
from questrya.unit_of_work import SqlUnitOfWork
from tests.integration.conftest import RecordingJobQueue


def connections_in_use(engine: AsyncEngine) -> int:
    """Connections taken from the pool: a unit of work holds one from its first statement to
    its end, so 0 means no transaction is open."""
    return engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]


async def test_the_platform_is_asked_about_admin_rights_before_any_transaction(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    job_queue: RecordingJobQueue,
) -> None:
    router = build_router(lambda: SqlUnitOfWork(session_factory, job_queue))
    in_use_while_asked: list[int] = []

    async def ask_the_platform() -> bool:
        in_use_while_asked.append(connections_in_use(engine))
        return True

    admin = Speaker("console", "ada", "Ada", "group:friends", is_group=True)
    await router.handle_text(admin, "/backlog")  # the group and its first member on record
    asking = Speaker(
        "console", "ada", "Ada", "group:friends", is_group=True, admin_check=ask_the_platform
    )

    reply = await router.handle_text(asking, "/feed on")

    assert reply.text.startswith("The feed is on"), reply.text
    assert in_use_while_asked == [0]
    assert connections_in_use(engine) == 0
