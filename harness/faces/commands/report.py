"""``harness report``: draw a trace as one self-contained HTML timeline, or export it in the Trace Event Format.

The page and the export are the analysis's (imported when the command runs);
this module chooses the source, the title and the format, and names the file
it could not write.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from harness.faces import options
from harness.faces.outputs import output_file
from harness.model.errors import OutputError

if TYPE_CHECKING:
    from harness.model.trace import Trace


def add(commands: options.Commands) -> None:
    """Add ``report``: a source and the HTML file to write."""
    report = commands.add_parser(
        "report",
        help="draw a trace as a self-contained HTML timeline (one lane per task, spawns, SIGCHLD, zombies), or "
        "export it for Perfetto and chrome://tracing",
        description="Run a server (or read TRACE.jsonl, or an strace -f log) "
        "and write one HTML file, viewable offline: a lane per "
        "task in tree order, each call as a span from entry to return, interrupted calls (ERESTARTSYS, EINTR) "
        "highlighted, spawn and SIGCHLD arrows, zombie bands from a child's exit to its reap, and the findings "
        "of 'harness explain' beside it (click one to highlight its events).  With --format tef, write the same "
        "story in the Trace Event Format instead, for Perfetto's UI (ui.perfetto.dev) and chrome://tracing: a track "
        "per task, calls as slices, signals, spawns, execs and exits as instants, arrows from each spawn and each "
        "known signal sender, and the findings as annotations.",
        epilog="examples:\n  harness report fork_sigchld -o fork_sigchld.html\n"
        "  harness report fork_no_reap --connections 5 -o zombies.html\n"
        "  harness report run.jsonl -o run.html\n"
        "  harness report strace.log -o strace.html\n"
        "  harness report -o mine.html -- python3 my_server.py --port {port}\n"
        "  harness report fork_sigchld --format tef -o fork_sigchld.json   # open it in ui.perfetto.dev\n\n"
        "exit status: 0 written, 1 the server's run failed, 65 unreadable trace, 74 unwritable output, 2 usage",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source(report)
    report.add_argument(
        "--format",
        choices=FORMATS,
        default="html",
        help="html: the self-contained page (the default); tef: a Trace Event Format JSON file for Perfetto's UI "
        "and chrome://tracing",
    )
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write (HTML, or JSON)")
    report.set_defaults(run=handle)


#: What ``--format`` takes: the HTML page, or the Trace Event Format.
FORMATS = ("html", "tef")


def handle(args: argparse.Namespace) -> int:
    """Write the page or the export, and say in one line what it holds."""
    from harness.running.sources import trace_of

    source = options.one_source(args)
    trace = trace_of(source)
    if isinstance(source, str):
        title = source
    else:
        title = f"{source.label}, {source.scenario.connections} connections, {source.scenario.mode}"
    text, summary = _tef(trace, title) if args.format == "tef" else _html(trace, title)
    try:
        with output_file(args.output) as stream:
            stream.write(text)
    except OSError as error:
        if error.filename is not None:  # it could not be opened: said as such by main
            raise
        raise OutputError(args.output, error) from None
    print(f"wrote {args.output}: {summary}")
    return 0


def _html(trace: Trace, title: str) -> tuple[str, str]:
    from harness.analysis.report import render_report
    from harness.analysis.timeline import lanes

    return render_report(trace, title=title), f"{len(lanes(trace))} lanes, {len(trace)} events"


def _tef(trace: Trace, title: str) -> tuple[str, str]:
    from harness.analysis.trace_event_format import summary, to_json, trace_event_file
    from harness.faces.version import version

    document = trace_event_file(trace, source=title, version=version())
    return to_json(document), summary(document)
