"""One bot of bench_discord under measurement: its subprocess on the fake Discord, its CPU time,
and optionally py-spy on it.

The bot (questrya discord, the bare discord.py bot, the storing bot or the raw loop) gets the
fake's token and URLs as `questrya discord` reads them; Questrya also gets a fresh data dir and a
private redis-server, the storing bot the database it is given.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO_ROOT
from questrya.settings import ENV_PREFIX
from questrya.workers.redis_server import EmbeddedRedis
from tests.fakes_servers.discord import FakeDiscord

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
LOG_TAIL_CHARACTERS = 2_000
PROFILE_RATE = 250  # samples a second: a few thousand over a run, little overhead
PROFILER_START_SECONDS = 1.0


class BotProcess:
    """`async with`: the bot started in a subprocess, stopped with SIGTERM on the way out."""

    def __init__(
        self,
        name: str,
        arguments: Sequence[str],
        fake: FakeDiscord,
        run_dir: Path,
        *,
        questrya: bool,
        database_url: str | None = None,
    ) -> None:
        self.name, self._arguments, self._fake, self._run_dir = name, arguments, fake, run_dir
        self._questrya = questrya
        self._database_url = database_url
        self._stack = ExitStack()
        self.log_path = run_dir / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        environment = self._stack.enter_context(
            _environment(self._fake, self._run_dir, questrya=self._questrya)
        )
        # Bytecode is cached beside the runs, not in the source tree.
        environment["PYTHONPYCACHEPREFIX"] = str(self._run_dir.parent / "pycache")
        if self._database_url is not None:
            environment[f"{ENV_PREFIX}DATABASE_URL"] = self._database_url
        log = self._stack.enter_context(self.log_path.open("wb"))
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self._arguments,
            cwd=REPO_ROOT,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.process is not None
        try:
            if self.process.returncode is None:
                self.process.terminate()
                try:
                    async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                        await self.process.wait()
                except TimeoutError:
                    self.process.kill()
                    await self.process.wait()
        finally:
            self._stack.close()

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the bot process so far, all threads (Linux /proc)."""
        assert self.process is not None
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            tail = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{tail}")

    async def wait_until_ready(self) -> None:
        """Until the bot has synced its commands and holds a gateway session."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not (None in self._fake.commands and self._fake.gateway.live_sessions):
            self.check_alive()
            if time.monotonic() > deadline:
                transcript = self._fake.transcript()
                raise RuntimeError(f"not ready in {READY_TIMEOUT_SECONDS} s:\n{transcript}")
            await asyncio.sleep(0.02)


@contextmanager
def _environment(fake: FakeDiscord, run_dir: Path, *, questrya: bool) -> Iterator[dict[str, str]]:
    """This process's environment without its QUESTRYA_* settings, plus the bot's own."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(ENV_PREFIX) and name != "PYTHONDONTWRITEBYTECODE"
    } | {
        f"{ENV_PREFIX}DISCORD_TOKEN": fake.token,
        f"{ENV_PREFIX}DISCORD_API_URL": fake.url,
        f"{ENV_PREFIX}DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    with ExitStack() as stack:
        if questrya:
            redis_url = stack.enter_context(EmbeddedRedis(run_dir))
            environment |= {
                f"{ENV_PREFIX}DATA_DIR": str(run_dir),
                f"{ENV_PREFIX}REDIS_URL": redis_url,
                f"{ENV_PREFIX}METADATA_PROVIDER": "offline",
            }
        yield environment


@dataclass(frozen=True)
class Clocks:
    """Wall time, this process's CPU time (the fake's) and the bot process's, at one moment."""

    wall: float
    fake_cpu: float
    bot_cpu: float | None

    @classmethod
    def read(cls, process: BotProcess) -> Clocks:
        return cls(time.monotonic(), time.process_time(), process.cpu_seconds())


@asynccontextmanager
async def profiled(process: BotProcess, output: Path | None) -> AsyncIterator[None]:
    """py-spy on the bot process for the block (threads holding the GIL: its CPU), written to
    `output` as speedscope JSON; nothing when `output` is None."""
    if output is None:
        yield
        return
    assert process.process is not None
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")), "record", "--gil", "--nonblocking",
        "--rate", str(PROFILE_RATE), "--format", "speedscope", "--output", str(output),
        "--pid", str(process.process.pid),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(PROFILER_START_SECONDS)  # attached before the first interaction
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        await spy.wait()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in this process (the fake and its players) while the bot works:
    the fake keeps every call, frame and message, and collecting that growing heap cost it as
    much as answering. Its garbage waits for the end of the run."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
