"""How long ``harness sweep`` takes: per source, its sites and runs, and its wall time with one run at a time or more.

Each source is swept with ``-j 1`` and with ``-j N`` (N: the cores), in
alternation, round after round, so that a change in the machine's load falls
on both alike; a plain run of the same source is timed in the same rounds, so
that the table says what a sweep costs in runs of the server.  strace has no
sweep to compare with: the ratio is to the harness's own plain run.

    python bench/sweep_time.py                                   # every bundled variant, 3 rounds
    python bench/sweep_time.py --rounds 5 fork_sigchld c/echo_server examples/socat/socat.expect.yaml

Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from harness.model.variants import list_variants
from harness.running.sources import RunPlan, plan_of, run_plan
from harness.running.sweep import SweepOptions, sweep_plan


def _timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def main() -> None:
    """Time the sweeps and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="*", help="variants or expectation files (default: every bundled variant)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three timings (default 3)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    parallel = f"-j {cores}"
    print(f"{'source':<48} {'sites':>5} {'runs':>4} {'plain run':>9} {'-j 1':>7} {parallel:>7} {'-j1/run':>7}")
    for source in args.sources or list_variants():
        plan: RunPlan = plan_of(source)
        times: dict[str, list[float]] = {"run": [], "1": [], "n": []}
        sites = runs = 0
        for _ in range(args.rounds):
            times["run"].append(_timed(lambda plan=plan: run_plan(plan)))
            for key, jobs in (("1", 1), ("n", cores)):
                started = time.monotonic()
                result = sweep_plan(plan, SweepOptions(jobs=jobs))
                times[key].append(time.monotonic() - started)
                sites, runs = len(result.verdicts), result.runs
        run, one, many = (statistics.median(times[key]) for key in ("run", "1", "n"))
        print(f"{source:<48} {sites:>5} {runs:>4} {run:>8.2f}s {one:>6.2f}s {many:>6.2f}s {one / run:>6.1f}x")


if __name__ == "__main__":
    main()
