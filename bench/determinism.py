"""Run a command or a server variant many times under the tracer; count outlines that differ from the first.

The outline of a run (harness.model.trace.Trace.outline) is each role's sequence of
calls with their errno, signals, spawns and exits: no pids, no addresses, no
times.  A deterministic program must give the same outline on every run.

    python bench/determinism.py --runs 200 -- ./sigchld_accept norestart
    python bench/determinism.py --runs 200 --variant fork_sigchld --connections 3 \
        --require 'accept4 -> ERESTARTSYS' --require 'rt_sigreturn -> EINTR'
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from harness.model.scenario import Scenario
from harness.model.variants import find_variant
from harness.running.ports import free_port
from harness.running.run import run_server
from harness.running.tracer import Tracer
from harness.running.variants import variant_command


def main() -> int:
    """Run the command --runs times and report the count of differing outlines as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100, help="how many traced runs (default 100)")
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="TOKEN",
        help="an outline token every run must contain, e.g. 'accept -> ERESTARTSYS'",
    )
    parser.add_argument("--variant", help="run this server variant with its clients (deterministic mode)")
    parser.add_argument("--connections", type=int, default=3, help="connections per variant run (default 3)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    args = parser.parse_args()
    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command and not args.variant:
        parser.error("give --variant NAME or the command after --")

    first = None
    differing = 0
    missing = 0
    started = time.perf_counter()
    failed_runs = 0
    with open(os.devnull, "w") as devnull:
        for _ in range(args.runs):
            if args.variant:
                variant = find_variant(args.variant)
                port = free_port()
                run = run_server(
                    variant_command(variant, port, args.connections),
                    variant.protocol,
                    Scenario(connections=args.connections),
                    port=port,
                )
                failed_runs += not run.ok
                outline = run.trace.outline()
            else:
                result = Tracer(command, stdio=(None, devnull.fileno(), devnull.fileno())).run()
                outline = result.trace.outline()
            tokens = {token for story in outline.values() for token in story}
            missing += any(required not in tokens for required in args.require)
            if first is None:
                first = outline
            elif outline != first:
                differing += 1
    elapsed = time.perf_counter() - started
    report = {
        "command": command or [args.variant],
        "runs": args.runs,
        "differing_from_first": differing,
        "runs_missing_a_required_token": missing,
        "failed_runs": failed_runs,
        "seconds": round(elapsed, 2),
    }
    print(json.dumps(report))
    return 1 if differing or missing or failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
