"""What every benchmark shares: the machine it ran on, timing, and the results report."""

from __future__ import annotations

import math
import os
import platform
import secrets
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = Path(__file__).with_name("RESULTS.md")
MAKE_COMMAND = "make bench"
# PostgreSQL: the tests' server if set, else a local one; benchmarks skip it if none answers.
POSTGRES_URL_VARIABLE = "QUESTRYA_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_CONNECT_TIMEOUT = 5.0


def utc_timestamp() -> str:
    """Now, in UTC, to the minute."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Ratio:
    """A ratio measured in one run, and the goal it is held to (`met` None: it is held to
    none, and `goal` says why it is shown)."""

    name: str
    value: float
    goal: str
    met: bool | None


def storing_ratios(
    *, unit: str, framework: str, bare_name: str, questrya: float, storing: float, bare: float
) -> list[Ratio]:
    """How a bot's gap to a bare bot splits, from the best rates (in `unit`) of Questrya, of
    the storing bot (the bare bot doing the service floor's SQL of each command and nothing
    else) and of the bare bot: what storing costs, and what Questrya adds. Held to no goal."""
    return [
        Ratio(
            f"questrya {unit} ÷ storing {bare_name} {unit} (best runs)",
            questrya / storing,
            f"none: what Questrya adds to {framework} and the bare SQL of its commands",
            None,
        ),
        Ratio(
            f"storing {bare_name} {unit} ÷ {bare_name} {unit} (best runs)",
            storing / bare,
            "none: what a bot that stores what it is told, and costs nothing more, would"
            " reach: the most any bot doing this SQL can reach",
            None,
        ),
    ]


@dataclass(frozen=True)
class BenchResult:
    """One benchmark's figures, ready to print or to write into RESULTS.md."""

    title: str
    module: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    ratios: Sequence[Ratio]
    notes: Sequence[str] = ()
    measured_at: str = field(default_factory=utc_timestamp)
    # How long the benchmark took, start to end (set by run_all).
    seconds: float | None = None

    @property
    def command(self) -> str:
        """How to run this benchmark alone."""
        return f".venv/bin/python -m {self.module}"


@dataclass
class Stopwatch:
    """Seconds elapsed inside a `timed()` block, on the monotonic performance clock."""

    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """Time the block: `with timed() as watch: ...`, then read `watch.seconds`."""
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def describe_machine() -> str:
    """One line: cores, CPU model, RAM, Python version, OS."""
    return (
        f"{os.cpu_count()} cores · {cpu_model()} · {total_ram()} RAM · "
        f"Python {platform.python_version()} · {platform.system()} {platform.release()}"
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what the platform module knows."""
    for line in _read_lines(Path("/proc/cpuinfo")):
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown CPU"


def total_ram() -> str:
    """Total memory from /proc/meminfo, in GiB."""
    for line in _read_lines(Path("/proc/meminfo")):
        if line.startswith("MemTotal:"):
            kibibytes = int(line.split()[1])
            return f"{kibibytes / 1024**2:.1f} GiB"
    return "unknown"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = [_table_line(headers), _table_line(["---"] * len(headers))]
    lines += [_table_line(row) for row in rows]
    return "\n".join(lines)


def _met_cell(met: bool | None) -> str:
    if met is None:
        return "—"
    return "yes" if met else "**no**"


def render_section(result: BenchResult, machine: str) -> str:
    """One benchmark as a Markdown section: command, date, machine, figures, ratios, notes."""
    ratio_rows = [
        [ratio.name, f"{ratio.value:.2f}", ratio.goal, _met_cell(ratio.met)]
        for ratio in result.ratios
    ]
    took = f"\n- took: {result.seconds:.0f} s" if result.seconds is not None else ""
    parts = [
        f"## {result.title}",
        f"- command: `{MAKE_COMMAND}` or `{result.command}`\n"
        f"- date: {result.measured_at}\n"
        f"- machine: {machine}{took}",
        markdown_table(result.headers, result.rows),
        markdown_table(["ratio", "value", "goal", "met"], ratio_rows),
    ]
    if result.notes:
        parts.append("\n".join(f"- {note}" for note in result.notes))
    return "\n\n".join(parts)


def render_report(
    results: Sequence[BenchResult], machine: str, total_seconds: float | None = None
) -> str:
    """The whole RESULTS.md."""
    header = (
        "# Benchmark results\n\n"
        f"Generated by `{MAKE_COMMAND}` (bench/run_all.py); do not edit by hand. Absolute times"
        " are noisy on a shared machine: compare the ratios, each measured within one run."
    )
    if total_seconds is not None:
        header += f" All {len(results)} benchmarks took {total_seconds:.0f} s together."
    sections = [render_section(result, machine) for result in results]
    return "\n\n".join([header, *sections]) + "\n"


def print_result(result: BenchResult) -> None:
    """Print one benchmark's section, for a run of that benchmark alone."""
    print(render_section(result, describe_machine()))


def write_results(
    results: Sequence[BenchResult],
    path: Path = RESULTS_PATH,
    *,
    total_seconds: float | None = None,
) -> None:
    """Rewrite RESULTS.md with these results."""
    report = render_report(results, describe_machine(), total_seconds)
    path.write_text(report, encoding="utf-8")


def format_seconds(seconds: float) -> str:
    return f"{seconds:.3f}"


def format_count(count: int) -> str:
    return f"{count:,}"


def format_millis(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample with `fraction` of them at or below it."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


class PostgresUnavailable(Exception):
    """No PostgreSQL server answered: the benchmark skips PostgreSQL and says why."""


def postgres_server_url() -> str:
    """The server to benchmark PostgreSQL on: the tests' variable, else a local default."""
    return os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL


@asynccontextmanager
async def private_postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on the benchmark server, dropped on exit; raises
    `PostgresUnavailable` if the server does not answer. Imports are local: bench_worker's
    no-op horses import this module and must stay light."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    server = make_url(postgres_server_url())
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"questrya_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(dsn, timeout=POSTGRES_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise PostgresUnavailable(f"{server.render_as_string()}: {error}") from None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await _drop_postgres_database(dsn, name)


async def _drop_postgres_database(dsn: str, name: str) -> None:
    """Drop the benchmark's database on a new connection (the server may have restarted
    meanwhile); if the server is gone, say so and leave it, rather than hide the real error."""
    import asyncpg

    try:
        admin = await asyncpg.connect(dsn, timeout=POSTGRES_CONNECT_TIMEOUT)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        print(f"could not drop the benchmark database {name}: {error}", file=sys.stderr)


def _table_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
