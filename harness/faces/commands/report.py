"""``harness report``: draw a trace as one self-contained HTML timeline.

The page is the analysis's (imported when the command runs); this module
chooses the source and the title, and names the file it could not write.
"""

from __future__ import annotations

import argparse

from harness.faces import options
from harness.faces.outputs import output_file
from harness.model.errors import OutputError


def add(commands: options.Commands) -> None:
    """Add ``report``: a source and the HTML file to write."""
    report = commands.add_parser(
        "report",
        help="draw a trace as a self-contained HTML timeline: one lane per task, spawns, SIGCHLD, zombies",
        description="Run a server (or read TRACE.jsonl, or an strace -f log) "
        "and write one HTML file, viewable offline: a lane per "
        "task in tree order, each call as a span from entry to return, interrupted calls (ERESTARTSYS, EINTR) "
        "highlighted, spawn and SIGCHLD arrows, zombie bands from a child's exit to its reap, and the findings "
        "of 'harness explain' beside it (click one to highlight its events).",
        epilog="examples:\n  harness report fork_sigchld -o fork_sigchld.html\n"
        "  harness report fork_no_reap --connections 5 -o zombies.html\n"
        "  harness report run.jsonl -o run.html\n"
        "  harness report strace.log -o strace.html\n"
        "  harness report -o mine.html -- python3 my_server.py --port {port}\n\n"
        "exit status: 0 written, 1 the server's run failed, 65 unreadable trace, 74 unwritable output, 2 usage",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source(report)
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    report.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the page, and say how many lanes and events it draws."""
    from harness.analysis.report import render_report
    from harness.analysis.timeline import lanes
    from harness.running.sources import trace_of

    source = options.one_source(args)
    trace = trace_of(source)
    if isinstance(source, str):
        title = source
    else:
        title = f"{source.label}, {source.scenario.connections} connections, {source.scenario.mode}"
    try:
        with output_file(args.output) as stream:
            stream.write(render_report(trace, title=title))
    except OSError as error:
        if error.filename is not None:  # it could not be opened: said as such by main
            raise
        raise OutputError(args.output, error) from None
    print(f"wrote {args.output}: {len(lanes(trace))} lanes, {len(trace)} events")
    return 0
