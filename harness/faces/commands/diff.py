"""``harness diff``: compare two golden files, traces or runs, role by role.

Its sides are sources as the other commands' are (:mod:`harness.faces.options`),
each run in a golden file's scenario when it has one.
"""

from __future__ import annotations

import argparse
import sys

from harness.faces import options
from harness.model.errors import UsageError


def add(commands: options.Commands) -> None:
    """Add ``diff``: two sides, the second of which can be the user's own server after ``--``."""
    diff = commands.add_parser(
        "diff",
        help="compare two golden files, JSON Lines traces, strace logs or server runs, role by role",
        description="Compare the normalized stories of A and B role by role. Each is a golden file "
        "(*.golden.yaml), a JSON Lines trace (*.jsonl, from its first listen), an strace -f log (by its "
        "content), a bundled variant or an "
        "expectation file (run in deterministic mode, as 'harness record' does). Your own server can be B: "
        "give A only, and the command after '--' (harness diff A -- CMD ...). "
        "Exit status 0 when they are the same, 1 when they differ, 65 for an unreadable file, "
        "2 for an unknown variant.",
        epilog="examples:\n  harness diff fork_sigchld fork_sigchld_restart\n"
        "  harness diff expectations/golden/fork_sigchld.golden.yaml fork_sigchld\n"
        "  harness diff run1.jsonl run2.jsonl\n"
        "  harness diff fork_sigchld strace.log\n"
        "  harness diff golden/mine.golden.yaml -- python3 my_server.py --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sides = "a golden file (*.golden.yaml), a trace (*.jsonl, or an strace log), an expectation file or a variant name"
    diff.add_argument("a", metavar="A", help=sides)
    diff.add_argument("b", nargs="?", metavar="B", help=f"{sides}; or leave it out and give {options.COMMAND_SOURCE}")
    options.add_run_options(diff, from_golden=True)
    diff.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the difference, or that they are the same; the status says which."""
    from harness.running.stories import diff_sources

    sources = options.named_sources(args, [args.a, args.b])
    if len(sources) != 2:
        raise UsageError(
            "give two sides to compare: A B, or A and your own server after '--' (harness diff A -- CMD ...)"
            if len(sources) < 2
            else "give two sides to compare, not three: A B, or A -- CMD ... (then B is your command)"
        )
    diff = diff_sources(*sources, options=options.run_options(args))
    for story in (diff.a, diff.b):
        if story.missed_start is not None:
            print(
                f"harness: {story.label}: no {story.missed_start} call in the trace: compared from the start",
                file=sys.stderr,
            )
    for line in diff.lines:
        print(line)
    if diff.same:
        print(f"{diff.a.label} and {diff.b.label}: the same ({len(diff.a.roles)} roles, {diff.a.events} events)")
    return 0 if diff.same else 1
