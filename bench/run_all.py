"""Run every benchmark, print each one's table, and rewrite bench/RESULTS.md.

Run: make bench (or .venv/bin/python -m bench.run_all)
"""

from __future__ import annotations

from bench import bench_nightly_refresh, bench_worker
from bench.common import RESULTS_PATH, BenchResult, print_result, write_results

BENCHMARKS = (bench_nightly_refresh, bench_worker)


def main() -> None:
    results: list[BenchResult] = []
    for benchmark in BENCHMARKS:
        result = benchmark.run()
        print_result(result)
        print()
        results.append(result)
    write_results(results)
    print(f"Wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
