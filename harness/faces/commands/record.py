"""``harness record``: run a server deterministically and write its normalized trace as a golden file.

The golden files it writes are what ``harness diff`` and ``golden:``
assertions compare later runs with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.analysis.defaults import DEFAULT_START
from harness.faces import options


def add(commands: options.Commands) -> None:
    """Add ``record``: a server to run, the golden file to write, and where each story starts."""
    record = commands.add_parser(
        "record",
        help="run a server deterministically and write its normalized trace as a golden file",
        description="Run a server (a bundled variant, an expectation file's, or your own after '--') as "
        "'harness run' does and write each role's story, from the first CALL on, without pids, addresses or "
        "ports, to a YAML golden file that 'harness diff' and golden: assertions compare later runs with.",
        epilog="examples:\n  harness record fork_sigchld\n"
        "  harness record c/echo_server --connections 5 -o expectations/golden/echo5.golden.yaml\n"
        "  harness record fork_sigchld --messages 3 --start-after accept4\n"
        "  harness record mine.expect.yaml -o golden/mine.golden.yaml\n"
        "  harness record -o golden/mine.golden.yaml -- python3 my_server.py --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source(record, traces=False)
    record.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the golden file to write (default for a variant: expectations/golden/VARIANT.golden.yaml, "
        "with / in VARIANT as _; required for an expectation file or a command)",
    )
    record.add_argument(
        "--start-after",
        default=DEFAULT_START,
        metavar="CALL",
        help="start each story at the first CALL of the trace, its own line included (default: %(default)s); "
        "when there is none, at the beginning",
    )
    record.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the golden file; say so on stderr when its stories start at the beginning."""
    from harness.running.stories import record_golden

    plan = options.one_plan(args, "record")
    start_after = args.start_after
    recorded = record_golden(plan, start_after=start_after, path=Path(args.output) if args.output else None)
    golden = recorded.golden
    if golden.start_after is None:
        print(
            f"harness: {plan.label}: no {start_after} call in the trace: the stories start at the beginning",
            file=sys.stderr,
        )
    counts = ", ".join(f"{role} {len(lines)}" for role, lines in golden.roles.items())
    print(f"wrote {recorded.path}: events per role: {counts}")
    return 0
