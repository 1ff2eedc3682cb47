"""One SQLite file shared by the bot and two workers under 1,000 concurrent writes.

The chat router in this process is the bot: it takes 1,000 commands at once (20 players each
adding a game and rating another one 49 times), while two real `questrya worker` processes
look games up, record notifications and deliver them on the same file. SQLite allows one
writer at a time; what is under test is that every writer waits its turn (WAL, a busy timeout,
write transactions taken up front) instead of failing with "database is locked", and that
nothing is lost or done twice meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rq.job import Job

from bots.chat import ChatRouter, Reply, build_router
from bots.console.app import console_speaker
from bots.messages import Speaker
from questrya.bootstrap import App, open_app
from questrya.settings import load_settings
from questrya.workers.queues import RETRY_ATTEMPTS
from tests.faults.conftest import (
    added_reply,
    assert_nothing_lost_nothing_twice,
    query,
    read_ledger,
    running_worker,
    successful_runs,
    wait_until,
    worker_log,
)

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

PLAYERS = 20
RATINGS_EACH = 49  # with the 20 second games, 1,000 commands in the storm
GROUP = "crew"
WORKERS = ("worker-1", "worker-2")
# Each player's two lookups and their two deliveries, one announcement and its feed delivery.
EXPECTED_JOBS = PLAYERS * (2 + 2 + 1 + 1)
DRAIN_SECONDS = 120  # 100 jobs on two workers sharing two cores with the bot
# Titles the offline catalog knows under exactly this spelling, none ending in a platform.
TITLES = (
    "Hades", "Celeste", "Hollow Knight", "Portal 2", "Stardew Valley", "Undertale",
    "Outer Wilds", "Disco Elysium", "Elden Ring", "Balatro", "Slay the Spire", "Tunic",
    "Inside", "Limbo", "Braid", "Fez", "Terraria", "Factorio", "Subnautica", "Bastion",
    "Transistor", "Dead Cells", "Cuphead", "Minecraft", "Bloodborne", "Journey", "Persona 5",
    "Chrono Trigger", "Half-Life 2", "Dark Souls", "Super Metroid", "Metroid Dread",
    "Splatoon 3", "Pikmin 4", "Tetris Effect", "Sonic Mania", "Yakuza 0", "Control",
    "Alan Wake 2", "Psychonauts 2",
)  # fmt: skip


@pytest.fixture
async def app(tmp_path: Path, redis_url: str) -> AsyncIterator[App]:
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    async with open_app(settings, redis_url) as opened:
        yield opened


def player(number: int) -> str:
    return f"player{number:02d}"


def first_game(number: int) -> str:
    return TITLES[number]


def second_game(number: int) -> str:
    return TITLES[PLAYERS + number]


async def say(router: ChatRouter, speaker: Speaker, command: str) -> Reply:
    """A command as typed; a refusal fails the test (every command here is valid)."""
    reply = await router.handle_text(speaker, command)
    assert not reply.refused, (command, reply.text)
    return reply


async def join_the_feed(router: ChatRouter) -> None:
    """Every player speaks in the group and shares to its feed, which the first turns on."""
    for number in range(PLAYERS):
        await say(router, console_speaker(player(number), GROUP), "/share on")
    await say(router, console_speaker(player(0), GROUP), "/feed on")


async def start_first_games(router: ChatRouter) -> None:
    async def start(number: int) -> None:
        speaker = console_speaker(player(number), None)
        reply = await say(router, speaker, f"/add {first_game(number)}")
        assert reply.text == added_reply(first_game(number))
        await say(router, speaker, f"/play {first_game(number)}")

    await asyncio.gather(*(start(number) for number in range(PLAYERS)))


def storm() -> list[tuple[Speaker, str]]:
    """1,000 writes: each player adds a second game and rates the first one 49 times."""
    commands = [
        (console_speaker(player(number), None), f"/add {second_game(number)}")
        for number in range(PLAYERS)
    ]
    commands += [
        (console_speaker(player(number), None), f"/rate {first_game(number)} {1 + turn % 10}")
        for turn in range(RATINGS_EACH)
        for number in range(PLAYERS)
    ]
    return commands


async def test_the_bot_and_two_workers_write_one_sqlite_file_and_nothing_is_locked_out(
    tmp_path: Path, redis_url: str, app: App
) -> None:
    router = build_router(app.uow_factory)
    await join_the_feed(router)

    with contextlib.ExitStack() as workers:
        for name in WORKERS:
            workers.enter_context(running_worker(tmp_path, redis_url, log_name=name))
        await start_first_games(router)

        commands = storm()
        assert len(commands) == 1000
        replies = await asyncio.gather(
            *(router.handle_text(speaker, text) for speaker, text in commands),
            return_exceptions=True,
        )
        answered = zip(commands, replies, strict=True)
        failed = [(text, r) for (_, text), r in answered if not isinstance(r, Reply) or r.refused]
        assert failed == [], f"{len(failed)} commands failed, the first: {failed[:3]}"

        finished = await asyncio.gather(
            *(
                say(router, console_speaker(player(number), None), f"/done {first_game(number)} 9")
                for number in range(PLAYERS)
            )
        )
        assert all(reply.text.startswith("Completed") for reply in finished), finished[0]

        await wait_until(
            lambda: len(successful_runs(app.connection)) == EXPECTED_JOBS,
            within=DRAIN_SECONDS,
            waiting_for="every lookup, announcement and delivery to finish",
        )

    for name in WORKERS:
        log = worker_log(tmp_path, name)
        assert "database is locked" not in log
        assert "Traceback" not in log, log[-3000:]
        assert "Job OK" in log, f"{name} ran no job: the file was not shared by two workers"
    for job_id in successful_runs(app.connection):  # no run failed and was retried unseen
        assert Job.fetch(job_id, connection=app.connection).retries_left == RETRY_ATTEMPTS
    assert query(
        tmp_path, "SELECT DISTINCT status, rating FROM games WHERE rating IS NOT NULL"
    ) == [("completed", 9)]
    ledger = await read_ledger(app.settings.effective_database_url)
    everyone = [(player(n), first_game(n)) for n in range(PLAYERS)]
    everyone += [(player(n), second_game(n)) for n in range(PLAYERS)]
    assert_nothing_lost_nothing_twice(
        ledger, app.connection, games=everyone, other_notifications=PLAYERS
    )
    feed = [n for n in ledger.notifications if n.chat_id == f"group:{GROUP}"]
    assert len(feed) == PLAYERS
