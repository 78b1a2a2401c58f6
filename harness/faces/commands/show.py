"""``harness show``: print a trace file (JSON Lines, or an strace log) as text, as ``harness trace`` prints.

It takes the text options of a live trace, and says when the file cannot show
what they ask for (a trace recorded before times were kept, an strace log
written without them or with times of day only).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from harness.faces import options

if TYPE_CHECKING:
    from harness.model.strace_format import TimeColumns
    from harness.model.trace import Trace


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
    note = _missing_times(args.trace_file, trace, times)
    if note is not None:
        print(f"harness: {args.trace_file} {note}", file=sys.stderr)
    for line in render_trace(trace, times, full_stacks=args.verbose, notation=options.notation(args)):
        print(line)
    return 0


def _missing_times(source: str, trace: Trace, times: TimeColumns) -> str | None:
    """Why the time columns asked for stay empty, in the words of where the trace came from; None when they do not.

    A trace that :func:`~harness.running.sources.read_trace` took from a file
    not named ``.jsonl`` is an strace log: its times are strace's options, not
    the harness's version.
    """
    strace_log = not source.endswith(".jsonl")
    if times.any and trace and all(event.time is None for event in trace):
        if strace_log:
            return "is an strace log without times (strace ran without -t, -tt, -ttt or -r); -t and -r show nothing"
        return "holds no times (recorded before the tracer kept them); -t, -r and -T show nothing"
    if times.absolute and trace and all(event.start_realtime is None for event in trace):
        if strace_log:
            return (
                "is an strace log whose times are times of day without a date (strace -t or -tt; -ttt keeps it); "
                "-t, -tt and -ttt show nothing, -r and -T still do"
            )
        return (
            "holds no time of day (no start_realtime: recorded before it was kept, or written by hand); "
            "-t, -tt and -ttt show nothing, -r and -T still do"
        )
    return None
