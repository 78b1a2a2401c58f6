"""Run expectation files many times and count, per assertion, how often it held and how often it failed.

A trace assertion in CI must give the same verdict on every run.  This
script is how that is measured: every bundled expectation (or the files
given) N times, against its own server or ``--server VARIANT``, and a table
of passes and failures per assertion.  An assertion whose verdict changed
between runs is *flaky*.

    python bench/soak.py --runs 200
    python bench/soak.py --runs 50 --server fork_no_reap expectations/fork_sigchld.expect.yaml

Exit status 0 when no assertion is flaky and, against each file's own
server, none failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from harness.model.expectations import EXPECTATION_SUFFIX as SUFFIX
from harness.model.loader import load_expectations
from harness.running.check import check_file
from harness.running.serving import server_spec


def main() -> int:
    """Soak the files; print a table and a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["expectations"], help="files or dirs (default expectations/)")
    parser.add_argument("--runs", type=int, default=200, help="runs per file (default 200)")
    parser.add_argument("--server", metavar="VARIANT", help="run this variant instead of each file's own")
    parser.add_argument("--json", metavar="FILE", help="also write the counts as JSON")
    args = parser.parse_args()

    files: list[Path] = []
    for name in args.paths:
        path = Path(name)
        files.extend(sorted(path.rglob(f"*{SUFFIX}")) if path.is_dir() else [path])
    override = server_spec(args.server) if args.server else None
    verdicts: dict[str, Counter[bool]] = {}
    started = time.monotonic()
    for path in files:
        expectation = load_expectations(path)
        for _ in range(args.runs):
            checked = check_file(expectation, server=override)
            for result in checked.results:
                key = f"{path.name}: {result.assertion.name}"
                verdicts.setdefault(key, Counter())[result.passed] += 1
        print(f"{path}: {args.runs} runs done", file=sys.stderr)
    seconds = time.monotonic() - started

    width = max(map(len, verdicts), default=10)
    print(f"{'assertion':<{width}}  passed  failed")
    flaky = [key for key, counts in verdicts.items() if counts[True] and counts[False]]
    failing = [key for key, counts in verdicts.items() if counts[False]]
    for key, counts in verdicts.items():
        mark = "  FLAKY" if key in flaky else ""
        print(f"{key:<{width}}  {counts[True]:>6}  {counts[False]:>6}{mark}")
    print(
        f"{len(verdicts)} assertions, {args.runs} runs each: {len(flaky)} flaky, "
        f"{len(failing)} failed at least once, {seconds:.0f} s"
    )
    if args.json:
        table = {key: {"passed": counts[True], "failed": counts[False]} for key, counts in verdicts.items()}
        Path(args.json).write_text(
            json.dumps({"runs": args.runs, "server": args.server, "assertions": table, "seconds": seconds}, indent=2)
        )
    return 1 if flaky or (failing and not args.server) else 0


if __name__ == "__main__":
    sys.exit(main())
