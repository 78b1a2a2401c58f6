"""``harness show``: print a trace file (JSON Lines, or an strace log) as text, as ``harness trace`` prints.

It takes the text options of a live trace, and says when the file cannot show
what they ask for (a trace recorded before times were kept).
"""

from __future__ import annotations

import argparse
import sys

from harness.faces import options


def add(commands: options.Commands) -> None:
    """Add ``show``: the trace file, and the text options a live trace has."""
    show = commands.add_parser(
        "show",
        help="print a JSON Lines trace, or an strace -f log, as text",
        description="Print a trace written by 'harness trace --jsonl' in strace's style, with roles; or an "
        "strace -f log (strace -f -o LOG, -f on stderr, or -ff -o LOG's prefix or directory, told by its content) "
        "as the harness reads it: the same events, each task named by its role.",
    )
    show.add_argument("trace_file", metavar="TRACE", help="a JSON Lines trace (*.jsonl) or an strace -f log")
    options.add_full_stacks(show)
    options.add_time_columns(show)
    options.add_notation(show)
    show.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the trace, after a line on stderr when it holds no times for the time options given."""
    from harness.model.strace_format import render_trace
    from harness.running.sources import read_trace

    trace = read_trace(args.trace_file)
    times = options.time_columns(args)
    if times.any and trace and all(event.time is None for event in trace):
        print(
            f"harness: {args.trace_file} holds no times (recorded before the tracer kept them); "
            "-t, -r and -T show nothing",
            file=sys.stderr,
        )
    elif times.absolute and trace and all(event.start_realtime is None for event in trace):
        print(
            f"harness: {args.trace_file} holds no time of day (no start_realtime: recorded before it was kept, "
            "or written by hand); -t, -tt and -ttt show nothing, -r and -T still do",
            file=sys.stderr,
        )
    for line in render_trace(trace, times, full_stacks=args.verbose, notation=options.notation(args)):
        print(line)
    return 0
