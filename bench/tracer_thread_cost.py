"""The cost of running the tracer in a thread of its own: runs of ``true`` with and without it, alternated.

The tracer forks, traces and waits in its own thread (harness.running.tracer.own_thread),
so that a host process's other children are never reaped.  This measures
what that thread costs per run: each run of ``true`` alternates between the
real design and the tracer called in the caller's thread (which the harness
never does: it would reap the host's children), in one process, so that both
see the same load.

    python bench/tracer_thread_cost.py --runs 300
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from harness.running.tracer import Tracer, loop


def _direct(work: Callable[[], int], abort: Callable[[], None]) -> int:
    return work()


def main() -> int:
    """Time --runs runs of each and print their medians, means and minimums in ms as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300, help="runs of each (default 300)")
    runs = parser.parse_args().runs
    designs = {"own thread": loop.call_in_own_thread, "caller's thread": _direct}
    times: dict[str, list[float]] = {name: [] for name in designs}
    try:
        for index in range(2 * runs):
            name = list(designs)[index % 2]
            loop.call_in_own_thread = designs[name]
            start = time.perf_counter()
            Tracer(["/bin/true"], syscalls=["exit_group"]).run()
            times[name].append((time.perf_counter() - start) * 1000)
    finally:
        loop.call_in_own_thread = designs["own thread"]
    report = {
        name: {
            "runs": runs,
            "median_ms": round(statistics.median(ms), 2),
            "mean_ms": round(statistics.mean(ms), 2),
            "min_ms": round(min(ms), 2),
        }
        for name, ms in times.items()
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
