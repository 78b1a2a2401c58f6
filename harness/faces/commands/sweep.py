"""``harness sweep``: deliver a signal at every place a server sleeps, one run each, and say what breaks.

The sweep itself is :mod:`harness.running.sweep`, imported when the command
runs; this module reads which signal, where, and the outputs of the verdicts.
"""

from __future__ import annotations

import argparse
import functools
import sys

from harness.faces import options
from harness.faces.outputs import output_file


def _catchable_signal(text: str) -> str:
    """An argparse type: a signal a program can catch, by name (``SIGUSR1``) or number."""
    from harness.model import kernel
    from harness.model.hints import closest

    name = kernel.signal_name(int(text)) if text.isdigit() else text.upper()
    if not name.startswith("SIG") and f"SIG{name}" in kernel.SIGNAL_NUMBERS:
        name = f"SIG{name}"
    if name not in kernel.SIGNAL_NUMBERS:
        close = closest(name, kernel.SIGNAL_NUMBERS)
        raise argparse.ArgumentTypeError(
            f"unknown signal {text!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        )
    if name in ("SIGKILL", "SIGSTOP"):
        raise argparse.ArgumentTypeError(f"{name} cannot be caught, so it interrupts no call: choose another signal")
    return name


def add(commands: options.Commands) -> None:
    """Add ``sweep``: a server to run, the signal, where to deliver it, and the outputs of the verdicts."""
    from harness.model.sweep import DEFAULT_SIGNAL

    sweep = commands.add_parser(
        "sweep",
        help="deliver a signal at every place the server sleeps, one run each, and say which ones break it",
        description="An EINTR audit. A first run notes every site where a task of the server sleeps in a call "
        "(the call, the role family, the Python line or the calling code); then, for each site, a run of its own "
        "delivers a signal while a task sleeps there, and says what it came to: broken (the run failed where the "
        "first one passed), restarted by the kernel (SA_RESTART), retried by the program (its loop, or CPython's "
        "PEP 475), or safe. The clients' bytes are held until the server stands still, so that every read that "
        "waits for a client is entered first. Exit status 1 when a site is broken, 0 when none is, 3 when the run "
        "without a signal fails.",
        epilog="examples:\n  harness sweep c/echo_server\n  harness sweep c/echo_server --sa-restart\n"
        "  harness sweep fork_sigchld --signal SIGUSR1 --json sweep.json\n"
        "  harness sweep expectations/fork_sigchld.expect.yaml --html sweep.html\n"
        "  harness sweep --connections 2 -- ./my_server --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source(sweep, traces=False)
    sweep.add_argument(
        "--signal",
        type=_catchable_signal,
        default=DEFAULT_SIGNAL,
        metavar="SIG",
        help=f"the signal delivered (default {DEFAULT_SIGNAL}, which fork servers handle); it is delivered only "
        "where the process catches it and does not block it, so a default action never kills the server",
    )
    sweep.add_argument(
        "--at",
        choices=("first", "all"),
        default="first",
        help="deliver it the first time a task sleeps at the site (default), or every time one does anew",
    )
    sweep.add_argument(
        "--sa-restart",
        action="store_true",
        help="run each broken site again with SA_RESTART added to every handler of the signal the program "
        "installs (the tracer rewrites sa_flags at rt_sigaction's entry) and say whether that alone fixes it",
    )
    sweep.add_argument(
        "-j",
        "--jobs",
        type=options.whole(1, 64, "--jobs"),
        default=0,
        metavar="N",
        help="runs made at once, each in a process of its own (default: the number of cores)",
    )
    sweep.add_argument(
        "--json", metavar="FILE", help="also write the whole sweep as one JSON object to FILE (- for stdout)"
    )
    sweep.add_argument("--jsonl", metavar="FILE", help="also write one JSON line per site to FILE (- for stdout)")
    sweep.add_argument("--html", metavar="FILE", help="also write the sweep as an HTML page to FILE")
    sweep.add_argument("-q", "--quiet", action="store_true", help="do not say each run's verdict as it comes")
    sweep.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Sweep every site and print the table; the status is 1 when a site is broken."""
    import json

    from harness.analysis.sweep_page import render_sweep_page
    from harness.analysis.sweep_table import sweep_table
    from harness.running.sweep import SweepOptions, sweep_plan

    if args.python_frames:
        print("harness: a sweep reads Python frames anyway; --python-frames changes nothing", file=sys.stderr)
    plan = options.one_plan(args, "sweep")
    outputs = [path for path in (args.json, args.jsonl, args.html) if path not in (None, "-")]
    for path in outputs:  # refused before the runs, not after them
        with output_file(path):
            pass
    sweep_options = SweepOptions(signal=args.signal, at=args.at, sa_restart=args.sa_restart, jobs=args.jobs)
    check = None
    if plan.origin == "expectation":  # each run is held to the file's promises too (read again: pickled to workers)
        from harness.analysis.verdicts import first_failed_assertion
        from harness.model.loader import load_expectations

        check = functools.partial(first_failed_assertion, load_expectations(plan.label))
    say = None if args.quiet else (lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    result = sweep_plan(plan, sweep_options, check=check, progress=say)
    print(sweep_table(result))
    texts = {
        args.json: json.dumps(result.as_json(), indent=2) + "\n",
        args.jsonl: "".join(json.dumps(verdict.as_json()) + "\n" for verdict in result.verdicts),
        args.html: render_sweep_page(result),
    }
    for path, text in texts.items():
        if path == "-":
            sys.stdout.write(text)
        elif path is not None:
            with output_file(path) as stream:
                stream.write(text)
    return 1 if result.broken else 0
