"""`questrya telegram` and `questrya worker` run as an operator runs them, against FakeBotApi.

The bot and the worker are real subprocesses talking to the fake Bot API over HTTP; a test plays
the Telegram users (typing commands, pressing buttons) and reads what the bot did from the calls
the fake recorded. Every failed wait reports the calls since the action and the processes' logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import redis
from rq import Worker
from rq.job import Job, JobStatus

from tests.e2e.conftest import clean_environment
from tests.fakes_servers.rawg import API_KEY as RAWG_API_KEY
from tests.fakes_servers.rawg import FakeRawg
from tests.fakes_servers.telegram import Call, FakeBotApi

TOKEN = "7654321:AAE2e-fake-token-for-questrya"
BOT_USERNAME = "QuestryaBot"
SEND_METHODS = ("sendMessage", "sendPhoto")
STARTUP_SECONDS = 30.0
REPLY_SECONDS = 10.0
STOP_SECONDS = 15.0
CONSOLE_SECONDS = 60.0
LOG_TAIL_LINES = 60
JSON = dict[str, Any]
Found = TypeVar("Found")


class QuestryaProcesses:
    """`python -m questrya.cli COMMAND` children, each logging to COMMAND.log in `log_dir`."""

    def __init__(self, environment: dict[str, str], log_dir: Path) -> None:
        self.environment = environment
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, command: str, *arguments: str) -> None:
        with (self.log_dir / f"{command}.log").open("ab") as log:
            self.running[command] = subprocess.Popen(
                [sys.executable, "-m", "questrya.cli", command, *arguments],
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def stop(self, command: str) -> None:
        """SIGTERM, then wait without blocking the event loop the fake server runs on."""
        process = self.running.pop(command)
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    async def kill(self, command: str) -> None:
        """SIGKILL, as when the machine or its container dies: nothing of the process's own
        clean-up runs."""
        process = self.running.pop(command)
        process.kill()
        await asyncio.to_thread(process.wait)

    async def stop_all(self) -> None:
        for command in list(self.running):
            await self.stop(command)

    def check_running(self) -> None:
        for command, process in self.running.items():
            if process.poll() is not None:
                raise AssertionError(f"`questrya {command}` exited early\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for log in sorted(self.log_dir.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            parts.append(f"--- {log.name} (last {len(lines)} lines) ---\n" + "\n".join(lines))
        return "\n".join(parts)


class TelegramBotUnderTest:
    """The fake Bot API, the bot and worker processes, and what a test does with them."""

    def __init__(self, api: FakeBotApi, processes: QuestryaProcesses, data_dir: Path) -> None:
        self.api = api
        self.processes = processes
        self.data_dir = data_dir
        self.redis_url = processes.environment.get("QUESTRYA_REDIS_URL", "")

    async def start_worker(self) -> None:
        self.processes.start("worker")
        deadline = time.monotonic() + STARTUP_SECONDS
        with contextlib.closing(redis.Redis.from_url(self.redis_url)) as connection:
            while Worker.count(connection=connection) == 0:
                self.processes.check_running()
                if time.monotonic() > deadline:
                    raise AssertionError(f"no worker registered\n{self.processes.logs()}")
                await asyncio.sleep(0.05)

    async def stop_worker(self) -> None:
        await self.processes.stop("worker")

    # -- acting as Telegram users -----------------------------------------------------------

    async def say(self, chat: JSON, user: JSON, text: str) -> Call:
        """Type `text` in `chat`; the bot's first successful send in answer to it.

        In a group the answer quotes the typed message, so pushes cannot be mistaken for it; in
        a private chat the caller makes sure no push is on its way to the chat.
        """
        since = len(self.api.calls)
        if text.startswith("/"):
            self.api.send_command(chat, user, text)
        else:
            self.api.send_text(chat, user, text)
        typed_id = self.api.messages(chat["id"])[-1]["message_id"]
        quotes = chat["type"] != "private"

        def answers(call: Call) -> bool:
            quoted = (call.params.get("reply_parameters") or {}).get("message_id")
            return is_send_to(call, chat) and call.ok and (not quotes or quoted == typed_id)

        return await self.first_call(f"an answer to {text[:60]!r}", answers, since)

    async def press(self, chat: JSON, user: JSON, message_id: int, callback_data: str) -> Call:
        """Press a button of a message; the bot's answerCallbackQuery for that press."""
        since = len(self.api.calls)
        update_id = self.api.press_button(chat, user, message_id, callback_data)
        [update] = [u for u in self.api.pending_updates if u["update_id"] == update_id]
        query_id = update["callback_query"]["id"]

        def answers(call: Call) -> bool:
            return call.method == "answerCallbackQuery" and (
                call.params.get("callback_query_id") == query_id
            )

        return await self.first_call(f"the answer to a press on {callback_data!r}", answers, since)

    def tap_poll(self, chat: JSON, user: JSON, poll: Call, option: int) -> None:
        """Tap one option of a poll the bot sent; Telegram shows the bot nothing in the chat."""
        self.api.answer_poll(chat, user, poll.result["message_id"], [option])

    async def console(self, user: str, *lines: str) -> str:
        """`questrya console --user USER` on the same database and Redis, typing `lines`; what
        it printed. Run in a thread: the fake Bot API keeps serving meanwhile."""
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "questrya.cli", "console", "--user", user],
            input="".join(f"{line}\n" for line in lines),
            capture_output=True,
            text=True,
            env=self.processes.environment,
            timeout=CONSOLE_SECONDS,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    # -- reading what the bot did -------------------------------------------------------------

    async def first_call(
        self,
        description: str,
        matches: Callable[[Call], bool],
        since: int = 0,
        timeout: float = REPLY_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancellation
    ) -> Call:
        """The first answered call from index `since` on that `matches`, within `timeout`."""

        def first() -> Call | None:
            answered = (c for c in self.api.calls[since:] if c.status is not None)
            return next((call for call in answered if matches(call)), None)

        return await self.wait_until(description, first, timeout, since)

    async def wait_until(
        self,
        description: str,
        probe: Callable[[], Found | None],
        timeout: float = REPLY_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancellation
        since: int = 0,
    ) -> Found:
        """What `probe` returns once it is not None; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (found := probe()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {description} within {timeout} s; calls:\n{self.transcript(since)}\n"
                    f"{self.processes.logs()}"
                )
            self.processes.check_running()
            await asyncio.sleep(0.01)
        return found

    async def edited(self, chat: JSON, message_id: int, since: int) -> Call:
        """The first successful edit of a message from call index `since` on."""

        def edits(call: Call) -> bool:
            return call.ok and is_edit_of(call, chat, message_id)

        return await self.first_call(f"an edit of message {message_id}", edits, since)

    async def pushed(
        self,
        chat: JSON,
        starts_with: str,
        timeout: float = STARTUP_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancellation
    ) -> Call:
        """A message sent to `chat` whose text (as Telegram shows it) starts with `starts_with`."""

        def matches(call: Call) -> bool:
            return is_send_to(call, chat) and call.ok and shown_text(call).startswith(starts_with)

        return await self.first_call(f"push {starts_with!r} to {chat['id']}", matches, 0, timeout)

    async def poll_sent(self, chat: JSON, since: int) -> Call:
        """The first native poll sent to `chat` from call index `since` on."""

        def polls(call: Call) -> bool:
            return call.method == "sendPoll" and call.ok and call.params["chat_id"] == chat["id"]

        return await self.first_call(f"a poll in {chat['id']}", polls, since)

    async def finished_job(self, id_prefix: str) -> Job:
        """The RQ job whose id starts with `id_prefix`, once a worker has finished it."""
        with contextlib.closing(redis.Redis.from_url(self.redis_url)) as connection:

            def finished() -> Job | None:
                keys = connection.keys(f"rq:job:{id_prefix}*")
                jobs = [Job.fetch(key.decode().removeprefix("rq:job:"), connection) for key in keys]
                done = [job for job in jobs if job.get_status() == JobStatus.FINISHED]
                return done[0] if done else None

            return await self.wait_until(f"job {id_prefix}* finished", finished, STARTUP_SECONDS)

    def sends_to(self, chat: JSON, since: int = 0) -> list[Call]:
        return [call for call in self.api.calls[since:] if is_send_to(call, chat)]

    def edits_of(self, chat: JSON, message_id: int) -> list[Call]:
        return [call for call in self.api.calls if is_edit_of(call, chat, message_id)]

    def transcript(self, since: int = 0) -> str:
        calls = [c for c in self.api.calls[since:] if c.method != "getUpdates"]
        return "\n".join(str(call)[:400] for call in calls) or "(none besides getUpdates)"

    def context(self) -> str:
        """For assertion messages: every call but polls, and the processes' logs."""
        return f"calls:\n{self.transcript()}\n{self.processes.logs()}"

    def query(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        """Rows of the SQLite database the bot and the worker share."""
        with contextlib.closing(sqlite3.connect(self.data_dir / "questrya.db")) as database:
            return database.execute(sql, parameters).fetchall()


def is_send_to(call: Call, chat: JSON) -> bool:
    return call.method in SEND_METHODS and call.params.get("chat_id") == chat["id"]


def is_edit_of(call: Call, chat: JSON, message_id: int) -> bool:
    return (
        call.method == "editMessageText"
        and call.params.get("chat_id") == chat["id"]
        and call.params.get("message_id") == message_id
    )


def shown_text(call: Call) -> str:
    """What the chat shows for a successful send or edit: HTML parsed, entities aside."""
    result = call.result
    return str(result.get("text", result.get("caption", "")))


def buttons(call: Call) -> dict[str, str]:
    """label -> callback_data of the inline keyboard a send or edit carried."""
    keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in keyboard for button in row}


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def running_bot(
    data_dir: Path, redis_url: str, *, rawg: bool = False
) -> AsyncIterator[TelegramBotUnderTest]:
    """The fake Bot API, then `questrya telegram` and `questrya worker` pointed at it; with
    `rawg`, games are looked up on a fake RAWG (covers included) instead of the offline
    catalog."""
    _forget_earlier_bots(redis_url)
    async with contextlib.AsyncExitStack() as fakes:
        api = await fakes.enter_async_context(
            FakeBotApi(token=TOKEN, bot_username=BOT_USERNAME, long_poll_cap=0.5)
        )
        games_database = await _fake_rawg(fakes) if rawg else {}
        environment = clean_environment(
            data_dir,
            QUESTRYA_TELEGRAM_TOKEN=TOKEN,
            QUESTRYA_TELEGRAM_API_URL=api.base_url,
            QUESTRYA_REDIS_URL=redis_url,
            QUESTRYA_LOG_LEVEL="DEBUG",  # the most a log can say (every request), and no token
            **games_database,
        ) | {"PTB_TIMEDELTA": "true"}
        processes = QuestryaProcesses(environment, data_dir)
        bot = TelegramBotUnderTest(api, processes, data_dir)
        try:
            processes.start("telegram")
            await bot.start_worker()
            await bot.first_call("first getUpdates", _is_poll, timeout=STARTUP_SECONDS)
            yield bot
        finally:
            await processes.stop_all()


def _forget_earlier_bots(redis_url: str) -> None:
    """No queued jobs or worker records from earlier tests, and no record of the updates they
    handled: every fake Bot API numbers its updates from the same start."""
    with contextlib.closing(redis.Redis.from_url(redis_url)) as connection:
        connection.flushall()


async def _fake_rawg(fakes: contextlib.AsyncExitStack) -> dict[str, str]:
    rawg = await fakes.enter_async_context(FakeRawg())
    return {
        "QUESTRYA_METADATA_PROVIDER": "rawg",
        "QUESTRYA_RAWG_API_KEY": RAWG_API_KEY,
        "QUESTRYA_RAWG_API_URL": rawg.url,
    }


@contextlib.asynccontextmanager
async def running_webhook_bot(
    data_dir: Path, redis_url: str, secret: str
) -> AsyncIterator[tuple[TelegramBotUnderTest, str]]:
    """`questrya telegram --webhook-url URL` listening on a local port, once it has set its
    webhook on the fake; yields the bot and the URL Telegram would call."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    _forget_earlier_bots(redis_url)
    async with FakeBotApi(token=TOKEN, bot_username=BOT_USERNAME) as api:
        environment = clean_environment(
            data_dir,
            QUESTRYA_TELEGRAM_TOKEN=TOKEN,
            QUESTRYA_TELEGRAM_API_URL=api.base_url,
            QUESTRYA_REDIS_URL=redis_url,
            QUESTRYA_TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
            QUESTRYA_TELEGRAM_WEBHOOK_PORT=str(port),
            QUESTRYA_TELEGRAM_WEBHOOK_SECRET=secret,
        ) | {"PTB_TIMEDELTA": "true"}
        processes = QuestryaProcesses(environment, data_dir)
        bot = TelegramBotUnderTest(api, processes, data_dir)
        try:
            processes.start("telegram", "--webhook-url", url)
            await bot.first_call(
                "setWebhook", lambda c: c.method == "setWebhook", 0, STARTUP_SECONDS
            )
            await bot.wait_until("the webhook's port open", lambda: _accepts(port), STARTUP_SECONDS)
            yield bot, url
        finally:
            await processes.stop_all()


def _accepts(port: int) -> bool | None:
    with contextlib.closing(socket.socket()) as probe:
        return True if probe.connect_ex(("127.0.0.1", port)) == 0 else None


def _is_poll(call: Call) -> bool:
    return call.method == "getUpdates"


def _is_set_webhook(call: Call) -> bool:
    return call.method == "setWebhook"
