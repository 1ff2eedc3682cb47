"""Run every benchmark, print each one's table, and rewrite bench/RESULTS.md.

Run: make bench (or .venv/bin/python -m bench.run_all)
"""

from __future__ import annotations

import dataclasses
import sys
import traceback
from types import ModuleType

from bench import (
    bench_backlog,
    bench_concurrency,
    bench_discord,
    bench_fanout,
    bench_memory,
    bench_nightly_refresh,
    bench_service,
    bench_telegram,
    bench_worker,
)
from bench.common import RESULTS_PATH, BenchResult, print_result, timed, write_results

# In the order of the issue: the service itself, then its adapters, its workers, its memory.
BENCHMARKS = (
    bench_service,
    bench_backlog,
    bench_telegram,
    bench_discord,
    bench_fanout,
    bench_worker,
    bench_nightly_refresh,
    bench_memory,
    bench_concurrency,
)
FAILED = "FAILED:"
# The budget for all of them together, on 2 cores.
BUDGET_SECONDS = 600


def main() -> None:
    results: list[BenchResult] = []
    with timed() as everything:
        for benchmark in BENCHMARKS:
            with timed() as this:
                result = run_one(benchmark)
            result = dataclasses.replace(result, seconds=this.seconds)
            print_result(result)
            print()
            results.append(result)
    write_results(results, total_seconds=everything.seconds)
    print(f"Wrote {RESULTS_PATH}")
    within = "within" if everything.seconds <= BUDGET_SECONDS else "OVER"
    print(f"All benchmarks: {everything.seconds:.0f} s, {within} the {BUDGET_SECONDS} s budget.")
    if any(result.title.startswith(FAILED) for result in results):
        sys.exit(1)


def run_one(benchmark: ModuleType) -> BenchResult:
    """The benchmark's result; if it raises, a section saying so, so that one broken benchmark
    (or a database restarted under it) does not lose the others' figures. `make bench` still
    fails at the end."""
    try:
        result: BenchResult = benchmark.run()
    except Exception as error:  # reported in RESULTS.md and by the exit status, not hidden
        traceback.print_exc()
        return failed_result(benchmark, error)
    return result


def failed_result(benchmark: ModuleType, error: Exception) -> BenchResult:
    first_line = next(iter(str(error).splitlines()), "")
    return BenchResult(
        title=f"{FAILED} {benchmark.__name__}",
        module=benchmark.__name__,
        headers=["error"],
        rows=[[f"`{type(error).__name__}: {first_line}`"]],
        ratios=[],
        notes=["No figures: the traceback is in the output of `make bench`."],
    )


if __name__ == "__main__":
    main()
