"""Run one command many times under the tracer and count outlines that differ from the first.

The outline of a run (harness.trace.Trace.outline) is each role's sequence of
calls with their errno, signals, spawns and exits: no pids, no addresses, no
times.  A deterministic program must give the same outline on every run.

    python bench/determinism.py --runs 200 -- ./sigchld_accept norestart
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from harness.tracer import Tracer


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
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    args = parser.parse_args()
    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        parser.error("give the command after --")

    first = None
    differing = 0
    missing = 0
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        for _ in range(args.runs):
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
        "command": command,
        "runs": args.runs,
        "differing_from_first": differing,
        "runs_missing_a_required_token": missing,
        "seconds": round(elapsed, 2),
    }
    print(json.dumps(report))
    return 1 if differing or missing else 0


if __name__ == "__main__":
    sys.exit(main())
