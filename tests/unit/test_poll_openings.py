"""PollOpenings: a tap waits for the answers under way when it arrived, in its chat, and not
for ever."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bots.poll_openings import PollOpenings


async def finished_soon(waiting: asyncio.Task[None]) -> bool:
    """Whether `waiting` is done once the loop has had a few turns."""
    for _ in range(5):
        await asyncio.sleep(0)
    return waiting.done()


async def answer_under_way(openings: PollOpenings, sent: asyncio.Event) -> asyncio.Task[None]:
    """An answer to chat -1 that is under way until `sent` is set."""

    async def answer() -> None:
        async with openings.opening("-1"):
            await sent.wait()

    answering = asyncio.create_task(answer())
    await asyncio.sleep(0)  # it has begun
    return answering


async def test_with_nothing_under_way_a_tap_goes_on_at_once() -> None:
    assert await finished_soon(asyncio.create_task(PollOpenings().settled("-1")))


async def test_a_tap_waits_for_the_answer_under_way_in_its_chat() -> None:
    openings = PollOpenings()
    async with openings.opening("-1"):
        waiting = asyncio.create_task(openings.settled("-1"))
        assert not await finished_soon(waiting)
    assert await finished_soon(waiting)


async def test_a_tap_does_not_wait_for_another_chat_unless_its_chat_is_unknown() -> None:
    openings = PollOpenings()
    async with openings.opening("-2"):
        assert await finished_soon(asyncio.create_task(openings.settled("-1")))
        anywhere = asyncio.create_task(openings.settled())
        assert not await finished_soon(anywhere)
    assert await finished_soon(anywhere)


async def test_a_tap_does_not_wait_for_answers_begun_after_it() -> None:
    openings = PollOpenings()
    first_done = asyncio.Event()
    begun = await answer_under_way(openings, first_done)
    waiting = asyncio.create_task(openings.settled("-1"))
    await asyncio.sleep(0)  # the tap is heard
    async with openings.opening("-1"):
        first_done.set()
        await begun
        assert await finished_soon(waiting)


async def test_an_answer_that_fails_releases_the_taps() -> None:
    openings = PollOpenings()
    heard: list[asyncio.Task[None]] = []

    async def failing_answer() -> None:
        async with openings.opening("-1"):
            heard.append(asyncio.create_task(openings.settled("-1")))
            await asyncio.sleep(0)
            raise RuntimeError("the send failed")

    with pytest.raises(RuntimeError):
        await failing_answer()
    assert await finished_soon(heard[0])


async def test_a_tap_stops_waiting_for_an_answer_that_hangs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    openings = PollOpenings(wait_seconds=0.01)
    hangs = asyncio.Event()
    answer = await answer_under_way(openings, hangs)
    with caplog.at_level(logging.WARNING):
        await openings.settled("-1")
    assert "without its poll's note" in caplog.text
    hangs.set()
    await answer
