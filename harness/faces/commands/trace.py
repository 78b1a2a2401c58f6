"""``harness trace -- CMD``: run a command under ptrace and print what its processes do, as strace does.

The command a person types most, so it must start fast: this module imports
only what its parser shows, and the tracer with the rest when it runs.
"""

from __future__ import annotations

import argparse
import sys

from harness.faces import options
from harness.faces.outputs import trace_outputs
from harness.model.errors import UsageError

_TRACE_EPILOG = """\
The trace is printed to stderr in strace's style (or to -o FILE); the traced
command keeps its own stdin, stdout and stderr.  The exit status is the
command's own (128 + N when it was killed by signal N).

examples:
  harness trace -- python3 servers/fork_sigchld.py
  harness trace --jsonl run.jsonl -o run.txt -- ./echo_server 0 3
  harness trace --strace-log run.strace -ttt -T -- ./echo_server 0 3
  harness trace --syscalls +read,write -- ./a.out
"""


def _syscall_list(text: str) -> tuple[str, ...]:
    from harness.model.syscalls import DEFAULT_SYSCALLS

    names = [name.strip() for name in text.removeprefix("+").split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one syscall name, e.g. accept4,close")
    if text.startswith("+"):
        return tuple(dict.fromkeys([*DEFAULT_SYSCALLS, *names]))
    return tuple(dict.fromkeys(names))


def add(commands: options.Commands) -> None:
    """Add ``trace``, whose command is everything after its options (``--`` or not)."""
    from harness.model.syscalls import DEFAULT_SYSCALLS  # the trace command records them: imported by its run too

    trace = commands.add_parser(
        "trace",
        help="run a command under ptrace and print every process's syscalls, signals and exits",
        description="Run CMD under ptrace, following every process and thread it creates.",
        epilog=_TRACE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_live_outputs(trace)
    options.add_time_columns(trace)
    options.add_notation(trace)
    trace.add_argument(
        "--syscalls",
        metavar="LIST",
        type=_syscall_list,
        help=f"comma-separated syscalls to record (default: {','.join(DEFAULT_SYSCALLS)}); "
        "a leading + adds to the default set",
    )
    trace.add_argument(
        "--no-syscall-info",
        action="store_true",
        help="tell syscall entry from exit by counting stops instead of PTRACE_GET_SYSCALL_INFO "
        "(the fallback for kernels older than 5.3)",
    )
    options.add_seccomp(
        trace,
        "stop the tracee only at the recorded calls, with a seccomp-BPF filter (as strace --seccomp-bpf): "
        "the default where it works (Linux 5.3, libseccomp.so.2), stepping every call elsewhere; "
        "--no-seccomp steps every call (-v says which was used)",
    )
    options.add_inject(trace)
    options.add_python_frames(trace)
    trace.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]", help="the command to trace")
    trace.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Trace the command to its end; its exit status is the command's own."""
    from harness.model.syscalls import DEFAULT_SYSCALLS
    from harness.running.tracer import Tracer

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        raise UsageError("no command to trace: write it after '--', e.g. harness trace -- ./server")
    with trace_outputs(args) as listener:
        tracer = Tracer(
            command,
            syscalls=args.syscalls or DEFAULT_SYSCALLS,
            listener=listener,
            use_syscall_info=False if args.no_syscall_info else None,
            seccomp=args.seccomp,
            injections=args.inject,
            python_frames=args.python_frames,
        )
        result = tracer.run()
    if args.verbose:
        mode = "seccomp prefilter" if tracer.uses_seccomp else "every call stepped"
        ended = f"{result.exits} task{'' if result.exits == 1 else 's'} ended"
        print(f"harness: {mode}, {result.stops} ptrace stops, {ended}, {len(result.trace)} events", file=sys.stderr)
    if result.interrupted_by:
        print(f"harness: {result.interrupted_by} received: the traced processes were killed", file=sys.stderr)
    return result.shell_status
