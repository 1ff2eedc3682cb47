"""Interactions per second that `questrya discord` handles against the fake Discord, next to a
bare discord.py bot with one command (bench/bare_discord_bot.py) on the same server, in the
same run.

Run alone: .venv/bin/python -m bench.bench_discord

The fake Discord (REST and gateway) runs in this process; each bot is a subprocess connected to
it. Once a bot is ready (commands synced, gateway session live), every player starts at once and
sends their slash commands one after the other, each as soon as the previous one is answered, as
people do. The clock runs from the first INTERACTION_CREATE to the last answer the fake records.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, BenchResult, Ratio, format_count, format_seconds, print_result
from bots.discord.responses import APOLOGY
from questrya.metadata.providers.offline import catalog_titles
from questrya.settings import ENV_PREFIX
from questrya.workers.redis_server import EmbeddedRedis
from tests.fakes_servers.discord import FakeDiscord, SentInteraction
from tests.fakes_servers.discord_payloads import JSON

PLAYERS = 100
# Each player's commands, in their order: (command, options); {first}/{second} are titles.
PLAYER_SCRIPT: tuple[tuple[str, dict[str, Any]], ...] = (
    ("add", {"title": "{first}"}),
    ("backlog", {}),
    ("add", {"title": "{second}"}),
    ("done", {"title": "{first}", "rating": 8}),
    ("help", {}),
)
ROUNDS = 2  # the script twice, on two new titles: enough work to time the bare bot too
INTERACTIONS = PLAYERS * len(PLAYER_SCRIPT) * ROUNDS
RUNS_PER_BOT = 2
SEED = 20_261_126
DISCORD_DEADLINE_SECONDS = 3.0  # Discord drops an interaction not answered within 3 s
READY_TIMEOUT_SECONDS = 30.0
ANSWER_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
LOG_TAIL_CHARACTERS = 2_000
# The Telegram bot's goal (bench_telegram), for a later issue to reach here too.
RATIO_GOAL = 0.6
# The fake (this process) must be idle most of the time Questrya works, or Questrya's rate
# would be the fake's. (The bare bot keeps it much busier: see the notes.)
FAKE_CPU_GOAL = 0.5

QUESTRYA = "questrya discord"
BARE = "bare discord.py bot"
BOT_COMMANDS = {
    QUESTRYA: ["-m", "questrya.cli", "discord"],
    BARE: ["-m", "bench.bare_discord_bot"],
}
SCHEDULE = (BARE, QUESTRYA) * RUNS_PER_BOT  # alternating, so drift on the machine hits both


@dataclass(frozen=True)
class Line:
    """One slash command, as `questrya discord` gets it and as the bare bot's /echo gets it."""

    command: str
    options: dict[str, Any]

    def for_bot(self, bot: str) -> tuple[str, dict[str, Any]]:
        if bot == QUESTRYA:
            return self.command, self.options
        words = [self.command, *(str(value) for value in self.options.values())]
        return "echo", {"text": " ".join(words)}


@dataclass(frozen=True)
class RunFigures:
    bot: str
    run: int
    interactions: int
    failed: int
    late: int
    seconds: float
    latencies: Sequence[float]
    fake_cpu_share: float

    @property
    def per_second(self) -> float:
        return self.interactions / self.seconds

    def latency_ms(self, quantile: float) -> float:
        cut = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return 1000 * cut[round(quantile * 100) - 1]


def scripts(players: int = PLAYERS) -> list[list[Line]]:
    """Every player's commands, ROUNDS times over, two bundled titles a round (seeded)."""
    titles = list(catalog_titles())
    random.Random(SEED).shuffle(titles)
    return [
        [
            Line(
                command,
                {k: _titled(v, titles, 2 * (player * ROUNDS + r)) for k, v in options.items()},
            )
            for r in range(ROUNDS)
            for command, options in PLAYER_SCRIPT
        ]
        for player in range(players)
    ]


def _titled(value: Any, titles: list[str], index: int) -> Any:
    if not isinstance(value, str):
        return value
    first, second = titles[index % len(titles)], titles[(index + 1) % len(titles)]
    return value.format(first=first, second=second)


def run() -> BenchResult:
    players = scripts()
    with tempfile.TemporaryDirectory(prefix="qbd-") as name:
        directory = Path(name)
        figures = [
            asyncio.run(measure(bot, number, players, directory))
            for number, bot in enumerate(SCHEDULE, start=1)
        ]
    return build_result(figures)


async def measure(bot: str, number: int, players: list[list[Line]], directory: Path) -> RunFigures:
    """A fresh fake, data dir and bot process; every player starts at once."""
    run_dir = directory / f"run-{number}"
    run_dir.mkdir()
    async with FakeDiscord() as fake, BotProcess(bot, fake, run_dir, directory) as process:
        fake.response_deadline = ANSWER_TIMEOUT_SECONDS  # late answers are counted, not lost
        await _wait_until_ready(fake, process)
        users = [fake.user(f"Player {n}") for n in range(len(players))]
        cpu_start, start = time.process_time(), time.monotonic()
        played = await asyncio.gather(
            *(
                _play(fake, bot, user, lines, process)
                for user, lines in zip(users, players, strict=True)
            )
        )
        sent = [interaction for interactions in played for interaction in interactions]
        return _figures(bot, number, fake, sent, start, cpu_start)


async def _play(
    fake: FakeDiscord, bot: str, user: JSON, lines: list[Line], process: BotProcess
) -> list[SentInteraction]:
    channel = fake.dm_channel(user)
    sent = []
    for line in lines:
        command, options = line.for_bot(bot)
        interaction = await fake.run_command(user, channel, command, options)
        try:
            await asyncio.wait_for(interaction.done.wait(), ANSWER_TIMEOUT_SECONDS)
        except TimeoutError:
            process.check_alive()
            raise
        sent.append(interaction)
    return sent


def _figures(
    bot: str,
    number: int,
    fake: FakeDiscord,
    sent: list[SentInteraction],
    start: float,
    cpu_start: float,
) -> RunFigures:
    end = max(interaction.finished_at or 0.0 for interaction in sent)
    latencies = [(i.answered_at or end) - i.sent_at for i in sent]
    refused = sum(1 for call in fake.calls if call.status is not None and call.status >= 400)
    apologies = sum(1 for i in sent if _content(fake, i) == APOLOGY)
    return RunFigures(
        bot=bot,
        run=sum(1 for earlier in SCHEDULE[:number] if earlier == bot),
        interactions=len(sent),
        failed=refused + apologies,
        late=sum(1 for latency in latencies if latency > DISCORD_DEADLINE_SECONDS),
        seconds=end - min(i.sent_at for i in sent),
        latencies=latencies,
        # This process is the fake: its CPU share while the bot worked says how busy it was.
        fake_cpu_share=(time.process_time() - cpu_start) / (time.monotonic() - start),
    )


def _content(fake: FakeDiscord, interaction: SentInteraction) -> str | None:
    message = fake.messages[interaction.channel_id].get(interaction.response_message_id or "")
    return None if message is None else str(message.get("content"))


class BotProcess:
    """`async with`: the bot started in a subprocess, stopped with SIGTERM on the way out."""

    def __init__(self, bot: str, fake: FakeDiscord, run_dir: Path, directory: Path) -> None:
        self._bot, self._fake, self._run_dir, self._directory = bot, fake, run_dir, directory
        self._stack = ExitStack()
        self.log_path = run_dir / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        environment = self._stack.enter_context(_environment(self._bot, self._fake, self._run_dir))
        environment["PYTHONPYCACHEPREFIX"] = str(self._directory / "pycache")
        log = self._stack.enter_context(self.log_path.open("wb"))
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *BOT_COMMANDS[self._bot],
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

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            tail = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]
            raise RuntimeError(f"{self._bot} exited with {self.process.returncode}:\n{tail}")


@contextmanager
def _environment(bot: str, fake: FakeDiscord, run_dir: Path) -> Iterator[dict[str, str]]:
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
        if bot == QUESTRYA:
            redis_url = stack.enter_context(EmbeddedRedis(run_dir))
            environment |= {
                f"{ENV_PREFIX}DATA_DIR": str(run_dir),
                f"{ENV_PREFIX}REDIS_URL": redis_url,
                f"{ENV_PREFIX}METADATA_PROVIDER": "offline",
            }
        yield environment


async def _wait_until_ready(fake: FakeDiscord, process: BotProcess) -> None:
    """Until the bot has synced its commands and holds a gateway session."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not (None in fake.commands and fake.gateway.live_sessions):
        process.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in {READY_TIMEOUT_SECONDS} s:\n{fake.transcript()}")
        await asyncio.sleep(0.02)


def best(figures: Sequence[RunFigures], bot: str) -> RunFigures:
    return max((f for f in figures if f.bot == bot), key=lambda f: f.per_second)


def build_result(figures: Sequence[RunFigures]) -> BenchResult:
    questrya, bare = best(figures, QUESTRYA), best(figures, BARE)
    ratio = questrya.per_second / bare.per_second
    return BenchResult(
        title="Discord bot interactions/s against the fake Discord (gateway + REST)",
        module="bench.bench_discord",
        headers=[
            "bot",
            "run",
            "interactions",
            "failed",
            "over 3 s",
            "seconds",
            "interactions/s",
            "callback p50 (ms)",
            "callback p95 (ms)",
            "fake server CPU",
        ],
        rows=[_row(f, best(figures, f.bot)) for f in figures],
        ratios=[
            Ratio(
                "questrya interactions/s ÷ bare bot interactions/s (best runs)",
                ratio,
                f">= {RATIO_GOAL} (later issue)",
                ratio >= RATIO_GOAL,
            ),
            Ratio(
                "questrya callback p95 ÷ Discord's 3 s, best run",
                questrya.latency_ms(0.95) / 1000 / DISCORD_DEADLINE_SECONDS,
                "< 1 (set here): every player is answered in time at this load",
                questrya.latency_ms(0.95) / 1000 < DISCORD_DEADLINE_SECONDS,
            ),
            Ratio(
                "fake server CPU ÷ wall time, best questrya run",
                questrya.fake_cpu_share,
                f"<= {FAKE_CPU_GOAL} (set here): the fake does not limit Questrya",
                questrya.fake_cpu_share <= FAKE_CPU_GOAL,
            ),
        ],
        notes=_notes(),
    )


def _row(figures: RunFigures, best_run: RunFigures) -> list[str]:
    marker = " (best)" if figures is best_run else ""
    return [
        figures.bot,
        f"{figures.run}{marker}",
        format_count(figures.interactions),
        str(figures.failed),
        str(figures.late),
        format_seconds(figures.seconds),
        f"{figures.per_second:.1f}",
        f"{figures.latency_ms(0.50):.0f}",
        f"{figures.latency_ms(0.95):.0f}",
        f"{figures.fake_cpu_share:.0%}",
    ]


def _notes() -> list[str]:
    script = ", ".join(
        "/" + " ".join([command, *(str(v) for v in options.values())])
        for command, options in PLAYER_SCRIPT
    ).format(first="A", second="B")
    return [
        f"{format_count(INTERACTIONS)} slash commands from {PLAYERS} players, each in a DM with"
        f" the bot: {script}, then the same on two more titles (A, B: bundled catalog titles,"
        " different for each player and round). All players start at once; each"
        " sends a command when the previous one is answered. The bare bot gets the same players"
        " and the same commands as `/echo text:add A`, ….",
        "Every bot is a fresh subprocess on a fresh fake Discord (and, for Questrya, a fresh"
        " SQLite data dir and private redis-server; no worker runs, so metadata jobs only"
        " queue). interactions/s = interactions ÷ (last answer recorded by the fake − first"
        " INTERACTION_CREATE sent); callback latency = INTERACTION_CREATE sent → callback"
        " accepted, which Discord wants within 3 s.",
        f"Each bot runs {RUNS_PER_BOT} times, alternating with the other, and its better run"
        " counts. `questrya discord` runs as in production (INFO logging to a file); the bare"
        " bot is discord.py's defaults with one /echo command.",
        "Failed: requests the fake refused (4xx/5xx), or the bot's apology for an error.",
        "The bare bot answers so fast that the fake (one Python process: a gateway frame and an"
        " HTTP callback per interaction) is busy much of its run (fake server CPU column): its"
        " rate is partly the fake's, so it is a floor for bare discord.py, and the ratio a"
        " ceiling for Questrya.",
    ]


def main() -> None:
    print_result(run())


if __name__ == "__main__":
    main()
