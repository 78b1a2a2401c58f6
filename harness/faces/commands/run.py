"""``harness run``: run a server under the tracer, drive its clients, print the trace.

What a source is and the options of a run are shared (:mod:`harness.faces.options`);
the port is this command's own.
"""

from __future__ import annotations

import argparse
import sys

from harness.faces import options
from harness.faces.outputs import trace_outputs

#: A TCP port: 0 would ask the kernel for any port, which the clients could not know.
_port = options.whole(1, 65535, "a port")


def add(commands: options.Commands) -> None:
    """Add ``run``: a source, the options of a run, and the outputs of a live trace."""
    run = commands.add_parser(
        "run",
        help="run a server under the tracer, drive its clients, print the trace",
        description="Start a server under the tracer on a free port, drive its clients, check their answers, "
        "and print the trace. The server is a bundled variant, the one an expectation file names (with that "
        "file's scenario, time limit, traced calls and injections; options given here override them), or your "
        "own command after '--'. The server's own output is shown when something fails.",
        epilog="examples:\n  harness run fork_sigchld\n  harness run c/echo_server --connections 5 --jsonl run.jsonl\n"
        "  harness run fork_no_reap --mode free --connections 50 --concurrency 10\n"
        "  harness run expectations/fork_sigchld.expect.yaml\n"
        "  harness run --connections 2 -- python3 my_server.py --port {port} --max {connections}\n"
        "  harness run --protocol http -- '{python}' -m http.server --bind 127.0.0.1 {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source(run, traces=False)
    options.add_live_outputs(run)
    options.add_time_columns(run)
    options.add_notation(run)
    options.add_seccomp(run, "the seccomp-BPF prefilter, on by default where it works (see harness trace --help)")
    run.add_argument("--port", type=_port, metavar="PORT", help="the port to serve on (default: a free one)")
    run.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the server once; on a failure, say what blocked and what the server printed, then raise it."""
    from harness.running.sources import run_plan

    run = run_plan(options.one_plan(args, "run"), port=args.port, outputs=trace_outputs(args), seccomp=args.seccomp)
    result = run.result
    print(f"{run.name}: {result.summary()}", file=sys.stderr)
    if result.interrupted_status is not None:
        return result.interrupted_status
    failure = result.failure()
    if failure is not None:
        for role, call in result.blocked().items():
            print(f"  {role} was blocked in {call}", file=sys.stderr)
        for problem in result.clients.failures:
            print(f"  {problem}", file=sys.stderr)
        print("server output:", file=sys.stderr)
        print("  " + "\n  ".join(result.server_output.splitlines() or ["(none)"]), file=sys.stderr)
        raise failure
    return 0
