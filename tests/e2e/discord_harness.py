"""`questrya discord` and `questrya worker` run as an operator runs them, against FakeDiscord.

The bot and the worker are real subprocesses: the bot talks to the fake's REST API and gateway
(QUESTRYA_DISCORD_API_URL / QUESTRYA_DISCORD_GATEWAY_URL), the worker to its REST API only, and
the worker looks games up in a fake RAWG, so pushed details carry a cover and an attribution. A
test plays the Discord users (slash commands, autocomplete, button presses) and reads what the
bot did from what the fake recorded. A failed wait reports the REST calls and the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis
from rq import Worker
from rq.job import Job, JobStatus

from tests.e2e.conftest import clean_environment
from tests.e2e.telegram_harness import QuestryaProcesses
from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers.discord import FakeDiscord, RestCall, SentInteraction
from tests.fakes_servers.rawg import API_KEY, FakeRawg

STARTUP_SECONDS = 30.0
REPLY_SECONDS = 10.0
PUSH_SECONDS = 30.0
CHANNEL_MESSAGES = "POST /channels/{channel_id}/messages"
JSON = dict[str, Any]
Found = TypeVar("Found")


@dataclass(frozen=True)
class Answer:
    """What the player sees once the bot is done with an interaction: the message it shows
    (after edits), and the interaction as the fake recorded it."""

    message: JSON
    interaction: SentInteraction

    @property
    def text(self) -> str:
        return shown_text(self.message)

    @property
    def ephemeral(self) -> bool:
        return bool(self.message["flags"] & shapes.EPHEMERAL)


class DiscordBotUnderTest:
    """The fakes, the bot and worker processes, and what a test does with them."""

    def __init__(self, fake: FakeDiscord, processes: QuestryaProcesses, data_dir: Path) -> None:
        self.fake = fake
        self.processes = processes
        self.data_dir = data_dir
        self.redis_url = processes.environment["QUESTRYA_REDIS_URL"]

    async def start_worker(self) -> None:
        self.processes.start("worker")
        with contextlib.closing(redis.Redis.from_url(self.redis_url)) as connection:
            await self.wait_until("a registered worker", lambda: Worker.count(connection) or None)

    async def stop_worker(self) -> None:
        await self.processes.stop("worker")

    # -- acting as Discord users ------------------------------------------------------------

    async def command(
        self, player: JSON, channel: JSON, name: str, values: dict[str, Any] | None = None
    ) -> Answer:
        """`/name` with option values; the message the player ends up seeing."""
        sent = await self.fake.run_command(player, channel, name, values)
        return await self.settled(sent, f"/{name} {values or ''}")

    async def autocomplete(
        self, player: JSON, channel: JSON, name: str, values: dict[str, Any], focused: str
    ) -> list[JSON]:
        """The choices the bot offers while `focused` is being typed."""
        sent = await self.fake.autocomplete(player, channel, name, values, focused)
        await self.wait_until(f"choices for /{name}", lambda: sent.response)
        assert sent.response is not None
        choices: list[JSON] = sent.response["data"]["choices"]
        return choices

    async def press(self, player: JSON, message: JSON, label: str) -> Answer:
        """Press the button labelled `label` on `message` (as it stands now)."""
        current = self.fake.messages[message["channel_id"]][message["id"]]
        sent = await self.fake.press(player, current, buttons(current)[label])
        return await self.settled(sent, f"a press on {label!r}")

    # -- reading what the bot did -------------------------------------------------------------

    async def settled(self, sent: SentInteraction, about: str) -> Answer:
        """Waits for the callback and, after a defer, for the edit or followup that ends it."""
        try:
            message = await self.fake.settled(sent, REPLY_SECONDS)
        except AssertionError as failure:
            raise AssertionError(f"no answer to {about}: {failure}\n{self.context()}") from None
        return Answer(message, sent)

    async def pushed(
        self,
        channel: JSON,
        matches: Callable[[JSON], bool],
        timeout: float = PUSH_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancellation
    ) -> RestCall:
        """The worker's accepted POST of a message to `channel` whose message `matches`."""

        def found() -> RestCall | None:
            return next(
                (call for call in self.pushes_to(channel) if call.ok and matches(call.response)),
                None,
            )

        return await self.wait_until(f"a push to {channel['id']}", found, timeout)

    async def finished_job(self, id_prefix: str) -> Job:
        """The RQ job whose id starts with `id_prefix`, once a worker has finished it: what a
        test waits for before it says that a job posted nothing."""
        with contextlib.closing(redis.Redis.from_url(self.redis_url)) as connection:

            def finished() -> Job | None:
                keys: list[bytes] = connection.keys(f"rq:job:{id_prefix}*")  # type: ignore[assignment]
                jobs = [Job.fetch(key.decode().removeprefix("rq:job:"), connection) for key in keys]
                done = [job for job in jobs if job.get_status() == JobStatus.FINISHED]
                return done[0] if done else None

            return await self.wait_until(f"job {id_prefix}* finished", finished, PUSH_SECONDS)

    def pushes_to(self, channel: JSON) -> list[RestCall]:
        return [
            call
            for call in self.fake.calls_to(CHANNEL_MESSAGES)
            if call.params["channel_id"] == channel["id"]
        ]

    async def wait_until(
        self,
        description: str,
        probe: Callable[[], Found | None],
        timeout: float = REPLY_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancellation
    ) -> Found:
        """What `probe` returns once it is truthy; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {description} within {timeout} s\n{self.context()}")
            self.processes.check_running()
            await asyncio.sleep(0.01)
        return found

    def context(self) -> str:
        """For assertion messages: the REST calls, and the processes' logs."""
        return f"calls:\n{self.fake.transcript()[-6000:]}\n{self.processes.logs()}"

    def query(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        """Rows of the SQLite database the bot and the worker share."""
        with contextlib.closing(sqlite3.connect(self.data_dir / "questrya.db")) as database:
            return database.execute(sql, parameters).fetchall()


def shown_text(message: JSON) -> str:
    """The content, or (for a message that is an embed) the embed's description."""
    if message.get("content"):
        return str(message["content"])
    embeds = message.get("embeds") or [{}]
    return str(embeds[0].get("description", ""))


def buttons(message: JSON) -> dict[str, str]:
    """label -> custom_id of the buttons on a message."""
    found: dict[str, str] = {}
    for row in message.get("components", []):
        for component in row.get("components", []):
            found[component["label"]] = component["custom_id"]
    return found


@contextlib.asynccontextmanager
async def running_bot(
    data_dir: Path, redis_url: str, *, dev_server: str | None = None, worker: bool = True
) -> AsyncIterator[DiscordBotUnderTest]:
    """The fakes, then `questrya discord` (and `questrya worker`) pointed at them. With
    `dev_server`, that server exists first and QUESTRYA_DISCORD_GUILD_ID names it."""
    if worker:
        with contextlib.closing(redis.Redis.from_url(redis_url)) as connection:
            connection.flushall()  # no queued jobs or worker records from earlier tests
    async with FakeDiscord() as fake, FakeRawg() as rawg:
        settings = {} if dev_server is None else await _dev_server(fake, dev_server)
        environment = clean_environment(
            data_dir,
            QUESTRYA_DISCORD_TOKEN=fake.token,
            QUESTRYA_DISCORD_API_URL=fake.url,  # no path: the bot adds /api/v10
            QUESTRYA_DISCORD_GATEWAY_URL=fake.gateway_url,
            QUESTRYA_REDIS_URL=redis_url,
            QUESTRYA_METADATA_PROVIDER="rawg",
            QUESTRYA_RAWG_API_KEY=API_KEY,
            QUESTRYA_RAWG_API_URL=rawg.url,
            QUESTRYA_LOG_LEVEL="DEBUG",  # the most a log can say, and still no token in it
            **settings,
        )
        processes = QuestryaProcesses(environment, data_dir)
        bot = DiscordBotUnderTest(fake, processes, data_dir)
        try:
            processes.start("discord")
            if worker:
                await bot.start_worker()
            await bot.wait_until("a connected bot", _connected(fake), STARTUP_SECONDS)
            yield bot
        finally:
            await processes.stop_all()


async def _dev_server(fake: FakeDiscord, name: str) -> dict[str, str]:
    guild = await fake.add_guild(name, owner=fake.user("Developer"))
    return {"QUESTRYA_DISCORD_GUILD_ID": guild.id}


def _connected(fake: FakeDiscord) -> Callable[[], bool]:
    def probe() -> bool:
        synced = any(c.ok for c in fake.calls if c.route.startswith("PUT /applications/"))
        return synced and bool(fake.gateway.live_sessions)

    return probe
