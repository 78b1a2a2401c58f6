"""The ``harness`` command line.

Every mistake a person can make here ends in one line on stderr naming the
problem and the fix, with a distinct exit status (see harness.errors); a
traceback means a bug in the harness.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from harness.errors import HarnessError, TraceInputError, UsageError
from harness.events import Event, Listener, SyscallEntry
from harness.strace_format import TextRenderer, render_trace
from harness.trace import Trace, TraceFileError, event_to_json

_TRACE_EPILOG = """\
The trace is printed to stderr in strace's style (or to -o FILE); the traced
command keeps its own stdin, stdout and stderr.  The exit status is the
command's own (128 + N when it was killed by signal N).

examples:
  harness trace -- python3 servers/fork_sigchld.py
  harness trace --jsonl run.jsonl -o run.txt -- ./echo_server 0 3
  harness trace --syscalls +read,write -- ./a.out
"""


def _syscall_list(text: str) -> tuple[str, ...]:
    from harness.tracer import DEFAULT_SYSCALLS

    names = [name.strip() for name in text.removeprefix("+").split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one syscall name, e.g. accept4,close")
    if text.startswith("+"):
        return tuple(dict.fromkeys([*DEFAULT_SYSCALLS, *names]))
    return tuple(dict.fromkeys(names))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with a help text for every command and option."""
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Observe and assert what multi-process servers do in the kernel.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    trace = commands.add_parser(
        "trace",
        help="run a command under ptrace and print every process's syscalls, signals and exits",
        description="Run CMD under ptrace, following every process and thread it creates.",
        epilog=_TRACE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    trace.add_argument("--jsonl", metavar="FILE", help="also write the events as JSON Lines to FILE")
    trace.add_argument("-o", "--output", metavar="TEXTFILE", help="write the text trace to TEXTFILE, not stderr")
    trace.add_argument(
        "--syscalls",
        metavar="LIST",
        type=_syscall_list,
        help="comma-separated syscalls to record (default: listen,accept,accept4,clone,clone3,fork,vfork,"
        "close,wait4,waitid,kill,rt_sigaction,rt_sigreturn,restart_syscall,exit,exit_group); "
        "a leading + adds to the default set",
    )
    trace.add_argument(
        "--no-syscall-info",
        action="store_true",
        help="tell syscall entry from exit by counting stops instead of PTRACE_GET_SYSCALL_INFO "
        "(the fallback for kernels older than 5.3)",
    )
    trace.add_argument(
        "--seccomp",
        action="store_true",
        help="stop the tracee only at the recorded calls, with a seccomp-BPF filter (as strace --seccomp-bpf); "
        "falls back to stepping every call where seccomp cannot be used",
    )
    trace.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]", help="the command to trace")
    trace.set_defaults(run=_cmd_trace)

    run = commands.add_parser(
        "run",
        help="run a bundled server variant under the tracer, drive its clients, print the trace",
        description="Start VARIANT under the tracer on a free port, drive its clients, check their answers, "
        "and print the trace. The server's own output is shown when something fails.",
        epilog="examples:\n  harness run fork_sigchld\n  harness run c/echo_server --connections 5 --jsonl run.jsonl\n"
        "  harness run fork_no_reap --mode free --connections 50 --concurrency 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("variant", metavar="VARIANT", help="a server in servers/: fork_sigchld, c/echo_server, ...")
    run.add_argument("--connections", type=int, default=3, metavar="N", help="connections to make (default 3)")
    run.add_argument("--messages", type=int, default=1, metavar="M", help="messages per connection (default 1)")
    run.add_argument("--concurrency", type=int, default=1, metavar="K", help="clients at a time (free mode; default 1)")
    run.add_argument(
        "--mode",
        choices=("deterministic", "free"),
        default="deterministic",
        help="deterministic (default): the harness orders connections, exits and SIGCHLD through ptrace; "
        "free: natural timing",
    )
    run.add_argument("--jsonl", metavar="FILE", help="also write the events as JSON Lines to FILE")
    run.add_argument("-o", "--output", metavar="TEXTFILE", help="write the text trace to TEXTFILE, not stderr")
    run.add_argument("--seccomp", action="store_true", help="use the seccomp-BPF prefilter (see harness trace --help)")
    run.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="time limit (default 60)")
    run.set_defaults(run=_cmd_run)

    show = commands.add_parser(
        "show",
        help="print a JSON Lines trace as text",
        description="Print a trace written by 'harness trace --jsonl' in strace's style.",
    )
    show.add_argument("trace_file", metavar="TRACE.jsonl")
    show.set_defaults(run=_cmd_show)
    return parser


@contextmanager
def _trace_outputs(args: argparse.Namespace) -> Iterator[Listener]:
    """The listener that writes a live run as text (stderr or -o) and as JSON Lines (--jsonl)."""
    with ExitStack() as stack:
        text = stack.enter_context(open(args.output, "w", encoding="utf-8")) if args.output else sys.stderr
        jsonl = stack.enter_context(open(args.jsonl, "w", encoding="utf-8")) if args.jsonl else None
        renderer = TextRenderer()

        def listener(point: SyscallEntry | Event) -> None:
            text.write(renderer.feed(point))
            text.flush()
            if jsonl is not None and not isinstance(point, SyscallEntry):
                jsonl.write(event_to_json(point))

        yield listener
        text.write(renderer.flush())


def _cmd_trace(args: argparse.Namespace) -> int:
    from harness.tracer import DEFAULT_SYSCALLS, Tracer

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        raise UsageError("no command to trace: write it after '--', e.g. harness trace -- ./server")
    with _trace_outputs(args) as listener:
        tracer = Tracer(
            command,
            syscalls=args.syscalls or DEFAULT_SYSCALLS,
            listener=listener,
            use_syscall_info=False if args.no_syscall_info else None,
            seccomp=args.seccomp,
        )
        result = tracer.run()
    if result.interrupted_by:
        print(f"harness: {result.interrupted_by} received: the traced processes were killed", file=sys.stderr)
    return result.shell_status


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.run import Scenario, free_port, run_server
    from harness.variants import find_variant

    variant = find_variant(args.variant)
    scenario = Scenario(args.connections, args.messages, args.concurrency, args.mode)
    port = free_port()
    command = variant.command(port, args.connections)
    with _trace_outputs(args) as listener:
        result = run_server(
            command,
            variant.protocol,
            scenario,
            port=port,
            timeout=args.timeout,
            listener=listener,
            seccomp=args.seccomp,
        )
    print(f"{variant.name}: {result.summary()}", file=sys.stderr)
    if not result.ok:
        for role, call in result.blocked().items():
            print(f"  {role} was blocked in {call}", file=sys.stderr)
        for failure in result.clients.failures:
            print(f"  {failure}", file=sys.stderr)
        print("server output:", file=sys.stderr)
        print("  " + "\n  ".join(result.server_output.splitlines() or ["(none)"]), file=sys.stderr)
        return 1
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    try:
        trace = Trace.read_jsonl(args.trace_file)
    except TraceFileError as error:
        raise TraceInputError(str(error)) from None
    for line in render_trace(trace):
        print(line)
    return 0


def _open_error(error: OSError) -> str:
    return f"cannot open {error.filename}: {error.strerror}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except HarnessError as error:
        print(f"harness: {error}", file=sys.stderr)
        return error.exit_status
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except OSError as error:
        if error.filename is None:
            raise
        print(f"harness: {_open_error(error)}", file=sys.stderr)
        return 74
    return status
