"""``harness explain``: a trace's interrupted calls, zombies and leaked descriptors, in words.

The explanations are the analysis's; this module only chooses the source and
the format, and imports the analysis when it runs.
"""

from __future__ import annotations

import argparse

from harness.analysis.defaults import FORMATS
from harness.faces import options
from harness.faces.outputs import output_file
from harness.model.errors import OutputError


def add(commands: options.Commands) -> None:
    """Add ``explain``: a source, the format of the findings, and a copy of the trace it explains."""
    explain = commands.add_parser(
        "explain",
        help="explain a trace in words: interrupted calls and restarts, zombies, leaked descriptors",
        description="Run a server (or read TRACE.jsonl, or an strace -f log) "
        "and explain, event by event, every interrupted or restarted "
        "call (which signal, from whom, the disposition in force, what the kernel and then the program did), "
        "every zombie and re-parented child, and every descriptor a process kept that it should have closed.",
        epilog="examples:\n  harness explain fork_sigchld\n  harness explain c/echo_server_restart --format markdown\n"
        "  harness explain run.jsonl\n  harness explain strace.log\n"
        "  harness explain expectations/fork_sigchld.expect.yaml\n"
        "  harness explain -- python3 my_server.py --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source(explain)
    explain.add_argument(
        "--format",
        choices=FORMATS,
        metavar="FORMAT",
        default=FORMATS[0],
        help="text, markdown, or json: the findings with their claims and the events each rests on "
        "(default: %(default)s)",
    )
    explain.add_argument("--jsonl", metavar="FILE", help="also write the trace it explains as JSON Lines to FILE")
    explain.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the findings; the trace explained is also written with ``--jsonl``."""
    from harness.analysis.explain import explain
    from harness.analysis.finding import render
    from harness.running.sources import trace_of

    trace = trace_of(options.one_source(args))
    if args.jsonl:
        with output_file(args.jsonl) as stream:
            try:
                trace.write_jsonl(stream)
            except OSError as error:
                raise OutputError(args.jsonl, error) from None
    print(render(explain(trace), format=args.format))
    return 0
