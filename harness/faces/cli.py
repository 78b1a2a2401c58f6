"""The ``harness`` command line.

Every mistake a person can make here ends in one line on stderr naming the
problem and the fix, with a distinct exit status (see harness.model.errors); a
traceback means a bug in the harness.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from harness.analysis.defaults import DEFAULT_START, FORMATS
from harness.model.errors import HarnessError, OutputError, UsageError
from harness.model.events import Event, Listener, SyscallEntry
from harness.model.trace import event_to_json

if TYPE_CHECKING:
    from harness.analysis.verdicts import AssertionResult
    from harness.model.expectations import ServerSpec
    from harness.model.injection import Injection
    from harness.model.scenario import ClientCommand
    from harness.model.strace_args import Notation
    from harness.model.strace_format import TextRenderer, TimeColumns
    from harness.running.check import FileOutcome
    from harness.running.sources import RunOptions, RunPlan

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
    from harness.model.syscalls import DEFAULT_SYSCALLS

    names = [name.strip() for name in text.removeprefix("+").split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one syscall name, e.g. accept4,close")
    if text.startswith("+"):
        return tuple(dict.fromkeys([*DEFAULT_SYSCALLS, *names]))
    return tuple(dict.fromkeys(names))


def _injection(text: str) -> Injection:
    from harness.model.injection import InjectionError, parse_injection

    try:
        return parse_injection(text)
    except InjectionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# -- options shared by several commands, each declared once, with its default from the model ------------------


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], refused with the range and what it counts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ({what}: {low} to {high})") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text}: {what} must be from {low} to {high}")
        return value

    return parse


def _seconds(text: str) -> float:
    """An argparse type: a finite time in seconds, more than 0 and at most a day."""
    from harness.model.scenario import MAX_SECONDS

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds, like 60") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"{text}: a time must be more than 0 and at most {MAX_SECONDS:g} seconds")
    return value


#: A TCP port: 0 would ask the kernel for any port, which the clients could not know.
_port = _whole(1, 65535, "a port")


#: How an unset scenario option's help ends: the default comes from the source, then from the model.
_FROM_SOURCE = "default: an expectation file's, else {default}"


def _add_connections(
    parser: argparse.ArgumentParser, what: str = "connections to make", *, from_golden: bool = False
) -> None:
    """``--connections``; unset, the source's own holds (an expectation file's; ``from_golden``: a golden file's)."""
    from harness.model.scenario import DEFAULT_SCENARIO, MAX_CONNECTIONS

    default = DEFAULT_SCENARIO.connections
    parser.add_argument(
        "--connections",
        type=_whole(1, MAX_CONNECTIONS, "connections"),
        metavar="N",
        help=f"{what} (default: an expectation file's own; for a variant or a command, a golden file's "
        f"scenario, else {default})"
        if from_golden
        else f"{what} ({_FROM_SOURCE.format(default=default)})",
    )


class _Count(NamedTuple):
    """A whole-number scenario option: its name, its range, what one counts, and its help (ending with the default)."""

    name: str
    least: int
    most: int
    what: str
    metavar: str
    help: str


def _scenario_counts() -> tuple[_Count, ...]:
    """The scenario's counts beside --connections (the scenario model is imported by the commands that run one)."""
    from harness.model.scenario import MAX_CONCURRENCY, MAX_MESSAGES, MAX_READY

    return (
        _Count(
            "messages", 0, MAX_MESSAGES, "messages per connection", "M", f"messages per connection ({_FROM_SOURCE})"
        ),
        _Count(
            "concurrency",
            1,
            MAX_CONCURRENCY,
            "clients at a time",
            "K",
            f"clients at a time (free mode; {_FROM_SOURCE})",
        ),
        _Count(
            "ready",
            1,
            MAX_READY,
            "processes",
            "N",
            "free mode: start the clients once N processes of the server wait for a connection, as every worker "
            f"of a pre-fork server does when it is ready ({_FROM_SOURCE})",
        ),
    )


def _add_scenario_counts(parser: argparse.ArgumentParser) -> None:
    """``--messages``, ``--concurrency`` and ``--ready``, each range-checked; unset, the source's own holds."""
    from harness.model.scenario import DEFAULT_SCENARIO

    for count in _scenario_counts():
        parser.add_argument(
            f"--{count.name}",
            type=_whole(count.least, count.most, count.what),
            metavar=count.metavar,
            help=count.help.format(default=getattr(DEFAULT_SCENARIO, count.name)),
        )


def _add_mode(parser: argparse.ArgumentParser) -> None:
    from harness.model.scenario import DEFAULT_SCENARIO, MODES

    parser.add_argument(
        "--mode", choices=MODES, help=f"how the server is run ({_FROM_SOURCE.format(default=DEFAULT_SCENARIO.mode)})"
    )


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    from harness.model.scenario import DEFAULT_TIMEOUT

    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"time limit of the run ({_FROM_SOURCE.format(default=f'{DEFAULT_TIMEOUT:g}')})",
    )


def _add_protocol(parser: argparse.ArgumentParser, what: str = "a command after --") -> None:
    from harness.model.scenario import DEFAULT_PROTOCOL, PROTOCOL_NAMES

    parser.add_argument(
        "--protocol",
        choices=PROTOCOL_NAMES,
        help=f"what the clients of {what} speak (default {DEFAULT_PROTOCOL}); "
        "a variant or an expectation file has its own",
    )


def _add_live_outputs(parser: argparse.ArgumentParser) -> None:
    """The outputs of a live trace (see :func:`_trace_outputs`)."""
    parser.add_argument("--jsonl", metavar="FILE", help="also write the events as JSON Lines to FILE")
    parser.add_argument("-o", "--output", metavar="TEXTFILE", help="write the text trace to TEXTFILE, not stderr")
    _add_full_stacks(parser)


def _add_full_stacks(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each event's whole Python stack under its line (with --python-frames, or a trace that has "
        "them); trace also says at the end how the calls were stopped (seccomp prefilter or every call stepped), "
        "how many ptrace stops the run took and how many tasks ended",
    )


def _add_time_columns(parser: argparse.ArgumentParser) -> None:
    """The time options of the text trace, as strace spells them (see :class:`TimeColumns`)."""
    times = parser.add_argument_group("times in the text trace (as strace's)")
    times.add_argument(
        "-t",
        action="count",
        default=0,
        dest="timestamps",
        help="start each line with the time of day; -tt with microseconds; -ttt as seconds since the epoch",
    )
    times.add_argument(
        "-r", action="store_true", dest="relative", help="start each line with the seconds since the previous line"
    )
    times.add_argument(
        "-T", action="store_true", dest="durations", help="end each call's line with the time spent in it, <0.000123>"
    )


def _positive_count(text: str) -> int:
    """An argparse type: a whole number of 1 or more, refused in one line otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _add_notation(parser: argparse.ArgumentParser) -> None:
    """How much of the decoded structs the text shows, as strace's -v and -s (see :class:`Notation`)."""
    notation = parser.add_argument_group("structs in the text trace (as strace's)")
    notation.add_argument(
        "--no-abbrev",
        action="store_false",
        dest="abbrev",
        help="show every member of the structs strace abbreviates (wait4's and waitid's whole struct rusage), "
        "as strace's -v, --no-abbrev",
    )
    notation.add_argument(
        "-s",
        "--string-limit",
        type=_positive_count,
        metavar="N",
        dest="elements",
        help="show at most N elements of an array (poll's pollfds, epoll's events), then ..., as strace's -s "
        "(default 32, the most the tracer reads; --no-abbrev shows them all)",
    )


def _notation(args: argparse.Namespace) -> Notation:
    from harness.model.strace_args import Notation

    return Notation(abbrev=args.abbrev) if args.elements is None else Notation(args.abbrev, args.elements)


def _time_columns(args: argparse.Namespace) -> TimeColumns:
    from harness.model.strace_format import TimeColumns

    return TimeColumns(absolute=min(args.timestamps, 3), relative=args.relative, durations=args.durations)


def _add_seccomp(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--seccomp", action=argparse.BooleanOptionalAction, default=True, help=help)


def _add_inject(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--inject",
        action="append",
        default=[],
        type=_injection,
        metavar="SPEC",
        help="make a call fail, return a value or meet a signal: "
        "CALL:error=ERRNO|retval=N|signal=SIG[:when=N|N+][:role=ROLE], "
        "e.g. accept4:error=EINTR:when=2 (repeatable; injected events are marked INJECTED)",
    )


#: What a command line with ``-- CMD`` means: the server is CMD, with {port} where its port goes.
_COMMAND_SOURCE = "-- CMD ... {port} ..."


def _add_python_frames(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--python-frames",
        action="store_true",
        help="read each CPython task's stack at every recorded call, signal and spawn, and show the line of "
        "Python code that made it (CPython 3.11 to 3.13; nothing is injected into the server)",
    )


def _add_stop(parser: argparse.ArgumentParser) -> None:
    from harness.model.scenario import DEFAULT_GRACE, STOP_BY_EXIT

    parser.add_argument(
        "--stop",
        metavar="SIGNAL",
        help=f"how the server ends once the clients are done: {STOP_BY_EXIT} (it exits by itself) or a signal "
        f"the harness sends its main process, e.g. SIGTERM (default: an expectation file's, else {STOP_BY_EXIT})",
    )
    parser.add_argument(
        "--grace",
        type=_seconds,
        metavar="SECONDS",
        help=f"after the stop signal, the time the server has to end before its tree is killed "
        f"({_FROM_SOURCE.format(default=f'{DEFAULT_GRACE:g}')})",
    )
    parser.add_argument(
        "--exit",
        type=_exit_statuses,
        metavar="STATUS[,STATUS]",
        help="the exit statuses of the server's main process that end the run well "
        f"({_FROM_SOURCE.format(default='0')}); after a stop signal, 128 + its number does too (143 after SIGTERM)",
    )


def _exit_statuses(text: str) -> frozenset[int]:
    """An argparse type: exit statuses, comma-separated (``0,1``), each as waitpid reports it."""
    from harness.model.scenario import MAX_EXIT_STATUS

    try:
        statuses = frozenset(int(word) for word in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write exit statuses as numbers, like 0 or 0,1") from None
    if not all(0 <= status <= MAX_EXIT_STATUS for status in statuses):
        raise argparse.ArgumentTypeError(f"{text}: an exit status is a number from 0 to {MAX_EXIT_STATUS}")
    return statuses


def _add_client_command(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--client-command",
        metavar="'CMD {port}'",
        help="a client of your own in place of the protocol's: one shell-quoted command run once per connection, "
        "with {port} (and {host}, {index}) where they go; a connection succeeds when it exits 0",
    )


def _add_run_options(parser: argparse.ArgumentParser, *, from_golden: bool = False) -> None:
    """The options of a command that runs a source: the scenario, the time limit, injections, stop and clients."""
    _add_connections(parser, "connections to make", from_golden=from_golden)
    _add_scenario_counts(parser)
    _add_mode(parser)
    _add_timeout(parser)
    _add_inject(parser)
    _add_python_frames(parser)
    _add_protocol(parser)
    _add_stop(parser)
    _add_client_command(parser)


def _add_source(parser: argparse.ArgumentParser, *, traces: bool = True) -> None:
    """The source argument of a command (see source_kind), and the options of a run."""
    files = "a JSON Lines trace (*.jsonl), " if traces else ""
    parser.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help=f"a bundled variant, {files}an expectation file (*.expect.yaml) whose server is run; "
        f"or leave it out and give your own server after the options: {_COMMAND_SOURCE}",
    )
    _add_run_options(parser)


def _run_options(args: argparse.Namespace) -> RunOptions:
    """What the run options of a command say (unset ones leave the source's own in force)."""
    from harness.running.sources import RunOptions

    return RunOptions(
        connections=args.connections,
        messages=args.messages,
        concurrency=args.concurrency,
        mode=args.mode,
        timeout=args.timeout,
        injections=tuple(args.inject),
        stop=args.stop,
        grace=args.grace,
        exits=args.exit,
        client=_client_command(args.client_command),
        python_frames=args.python_frames,
        ready=args.ready,
    )


def _client_command(text: str | None) -> ClientCommand | None:
    """``--client-command``'s words, with ``{python}`` and relative paths resolved from here as a server's are."""
    from harness.model.loader import client_command

    if text is None:
        return None
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise UsageError(f"--client-command: cannot split the command: {error}") from None
    if not words:
        raise UsageError("--client-command: give a command, e.g. 'curl -sf http://{host}:{port}/'")
    return client_command(words, here=Path.cwd())


def _sources(args: argparse.Namespace, texts: Sequence[str | None]) -> list[str | RunPlan]:
    """The sources a command names, in order: its source arguments, then the command after ``--``.

    An expectation file is read (and a variant's name checked) now, before
    anything runs; traces and golden files are left to the command, which
    reads what it can use.  ``--protocol`` belongs to a command only.
    """
    from harness.model.loader import server_spec_of_command
    from harness.model.scenario import DEFAULT_PROTOCOL
    from harness.running.sources import RunPlan, plan_of, source_kind

    sources: list[str | RunPlan] = []
    for text in texts:
        if text is None:
            continue
        sources.append(text if source_kind(text) in ("trace", "golden") else plan_of(text))
    words = args.command_words
    if words:
        server = server_spec_of_command(words, protocol=args.protocol or DEFAULT_PROTOCOL, here=Path.cwd())
        sources.append(RunPlan.of_command(server, label=shlex.join(words)))
    elif args.protocol is not None:
        raise UsageError(
            "--protocol is for your own server, given after '--'; a variant or an expectation file has its own"
        )
    return sources


def _one_source(args: argparse.Namespace) -> str | RunPlan:
    """The one source of ``run``, ``explain``, ``report`` or ``record``, with the run options over a plan."""
    sources = _sources(args, [args.source])
    if len(sources) != 1:
        raise UsageError(
            f"give one source: a variant, a file, or your own server after '--' ({_COMMAND_SOURCE}), not "
            + ("none" if not sources else "both")
        )
    [source] = sources
    return source if isinstance(source, str) else source.with_options(_run_options(args))


def _one_plan(args: argparse.Namespace, command: str) -> RunPlan:
    """The one source of a command that runs a server (``run``, ``record``): a trace or golden file is refused."""
    source = _one_source(args)
    if isinstance(source, str):
        raise UsageError(
            f"{source}: 'harness {command}' runs a server: give a variant, an expectation file (*.expect.yaml), "
            f"or your own server after '--' ({_COMMAND_SOURCE})"
        )
    return source


#: What ``add_subparsers`` returns: the commands' parsers are added to it.
_Commands = argparse._SubParsersAction  # argparse has no public name for this type


def _add_check(commands: _Commands) -> None:
    check = commands.add_parser(
        "check",
        help="run the servers of expectation files and check their assertions (the main job)",
        description="Find every *.expect.yaml under PATHS, run the server each one names under the tracer, "
        "and check its assertions against the trace. One line per assertion, a report for each failure, "
        "and the traces of failing runs written beside their files (NAME.failed.jsonl and .txt). "
        "Without PATHS: expectations/ here, or else the bundled expectations (said on stderr).",
        epilog="examples:\n  harness check\n  harness check expectations/fork_sigchld.expect.yaml -v\n"
        "  harness check expectations/reaping.expect.yaml --server fork_no_reap\n"
        "  harness check expectations/reaping.expect.yaml --server mine.expect.yaml\n"
        "  harness check expectations/reaping.expect.yaml --server-command 'python3 my_server.py --port {port}'\n"
        "  harness check --trace run.jsonl expectations/reaping.expect.yaml\n\n"
        "exit status: 0 all passed, 1 an assertion failed, 65 an expectation file or the trace is invalid, "
        "2 usage error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="expectation files, or directories to search (default: expectations/, else the bundled ones)",
    )
    servers = check.add_mutually_exclusive_group()
    servers.add_argument(
        "--server",
        metavar="VARIANT|FILE.expect.yaml",
        help="run this bundled variant, or the server this expectation file names, instead of the one each file "
        "names: regression-check a sibling or changed server against an existing promise",
    )
    servers.add_argument(
        "--server-command",
        metavar="'CMD ... {port} ...'",
        help="run your own server instead: one shell-quoted command line with {port} (and {connections}, "
        "{python}) where they go",
    )
    _add_protocol(check, "--server-command's server")
    check.add_argument(
        "--trace",
        metavar="TRACE.jsonl",
        help="check the files against this recorded trace instead of running anything",
    )
    check.add_argument("--traces", metavar="DIR", help="write the traces of failing runs to DIR, not beside the files")
    check.add_argument("-v", "--verbose", action="store_true", help="show every matched step in failure reports")
    _add_python_frames(check)
    check.set_defaults(run=_cmd_check)


def _add_trace(commands: _Commands) -> None:
    from harness.model.syscalls import DEFAULT_SYSCALLS  # the trace command records them: imported by its run too

    trace = commands.add_parser(
        "trace",
        help="run a command under ptrace and print every process's syscalls, signals and exits",
        description="Run CMD under ptrace, following every process and thread it creates.",
        epilog=_TRACE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_live_outputs(trace)
    _add_time_columns(trace)
    _add_notation(trace)
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
    _add_seccomp(
        trace,
        "stop the tracee only at the recorded calls, with a seccomp-BPF filter (as strace --seccomp-bpf): "
        "the default where it works (Linux 5.3, libseccomp.so.2), stepping every call elsewhere; "
        "--no-seccomp steps every call (-v says which was used)",
    )
    _add_inject(trace)
    _add_python_frames(trace)
    trace.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]", help="the command to trace")
    trace.set_defaults(run=_cmd_trace)


def _add_run(commands: _Commands) -> None:
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
    _add_source(run, traces=False)
    _add_live_outputs(run)
    _add_time_columns(run)
    _add_notation(run)
    _add_seccomp(run, "the seccomp-BPF prefilter, on by default where it works (see harness trace --help)")
    run.add_argument("--port", type=_port, metavar="PORT", help="the port to serve on (default: a free one)")
    run.set_defaults(run=_cmd_run)


def _add_explain(commands: _Commands) -> None:
    explain = commands.add_parser(
        "explain",
        help="explain a trace in words: interrupted calls and restarts, zombies, leaked descriptors",
        description="Run a server (or read TRACE.jsonl) and explain, event by event, every interrupted or restarted "
        "call (which signal, from whom, the disposition in force, what the kernel and then the program did), "
        "every zombie and re-parented child, and every descriptor a process kept that it should have closed.",
        epilog="examples:\n  harness explain fork_sigchld\n  harness explain c/echo_server_restart --format markdown\n"
        "  harness explain run.jsonl\n  harness explain expectations/fork_sigchld.expect.yaml\n"
        "  harness explain -- python3 my_server.py --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_source(explain)
    explain.add_argument(
        "--format",
        choices=FORMATS,
        metavar="FORMAT",
        default=FORMATS[0],
        help="text, markdown, or json: the findings with their claims and the events each rests on "
        "(default: %(default)s)",
    )
    explain.add_argument("--jsonl", metavar="FILE", help="also write the trace it explains as JSON Lines to FILE")
    explain.set_defaults(run=_cmd_explain)


def _add_show(commands: _Commands) -> None:
    show = commands.add_parser(
        "show",
        help="print a JSON Lines trace as text",
        description="Print a trace written by 'harness trace --jsonl' in strace's style.",
    )
    show.add_argument("trace_file", metavar="TRACE.jsonl")
    _add_full_stacks(show)
    _add_time_columns(show)
    _add_notation(show)
    show.set_defaults(run=_cmd_show)


def _add_report(commands: _Commands) -> None:
    report = commands.add_parser(
        "report",
        help="draw a trace as a self-contained HTML timeline: one lane per task, spawns, SIGCHLD, zombies",
        description="Run a server (or read TRACE.jsonl) and write one HTML file, viewable offline: a lane per "
        "task in tree order, each call as a span from entry to return, interrupted calls (ERESTARTSYS, EINTR) "
        "highlighted, spawn and SIGCHLD arrows, zombie bands from a child's exit to its reap, and the findings "
        "of 'harness explain' beside it (click one to highlight its events).",
        epilog="examples:\n  harness report fork_sigchld -o fork_sigchld.html\n"
        "  harness report fork_no_reap --connections 5 -o zombies.html\n"
        "  harness report run.jsonl -o run.html\n"
        "  harness report -o mine.html -- python3 my_server.py --port {port}\n\n"
        "exit status: 0 written, 1 the server's run failed, 65 unreadable trace, 74 unwritable output, 2 usage",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_source(report)
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    report.set_defaults(run=_cmd_report)


def _add_record(commands: _Commands) -> None:
    record = commands.add_parser(
        "record",
        help="run a server deterministically and write its normalized trace as a golden file",
        description="Run a server (a bundled variant, an expectation file's, or your own after '--') as "
        "'harness run' does and write each role's story, from the first CALL on, without pids, addresses or "
        "ports, to a YAML golden file that 'harness diff' and golden: assertions compare later runs with.",
        epilog="examples:\n  harness record fork_sigchld\n"
        "  harness record c/echo_server --connections 5 -o expectations/golden/echo5.golden.yaml\n"
        "  harness record fork_sigchld --messages 3 --start-after accept4\n"
        "  harness record mine.expect.yaml -o golden/mine.golden.yaml\n"
        "  harness record -o golden/mine.golden.yaml -- python3 my_server.py --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_source(record, traces=False)
    record.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the golden file to write (default for a variant: expectations/golden/VARIANT.golden.yaml, "
        "with / in VARIANT as _; required for an expectation file or a command)",
    )
    record.add_argument(
        "--start-after",
        default=DEFAULT_START,
        metavar="CALL",
        help="start each story at the first CALL of the trace, its own line included (default: %(default)s); "
        "when there is none, at the beginning",
    )
    record.set_defaults(run=_cmd_record)


def _add_diff(commands: _Commands) -> None:
    diff = commands.add_parser(
        "diff",
        help="compare two golden files, JSON Lines traces or server runs, role by role",
        description="Compare the normalized stories of A and B role by role. Each is a golden file "
        "(*.golden.yaml), a JSON Lines trace (*.jsonl, from its first listen), a bundled variant or an "
        "expectation file (run in deterministic mode, as 'harness record' does). Your own server can be B: "
        "give A only, and the command after '--' (harness diff A -- CMD ...). "
        "Exit status 0 when they are the same, 1 when they differ, 65 for an unreadable file, "
        "2 for an unknown variant.",
        epilog="examples:\n  harness diff fork_sigchld fork_sigchld_restart\n"
        "  harness diff expectations/golden/fork_sigchld.golden.yaml fork_sigchld\n"
        "  harness diff run1.jsonl run2.jsonl\n"
        "  harness diff golden/mine.golden.yaml -- python3 my_server.py --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sides = "a golden file (*.golden.yaml), a trace (*.jsonl), an expectation file or a variant name"
    diff.add_argument("a", metavar="A", help=sides)
    diff.add_argument("b", nargs="?", metavar="B", help=f"{sides}; or leave it out and give {_COMMAND_SOURCE}")
    _add_run_options(diff, from_golden=True)
    diff.set_defaults(run=_cmd_diff)


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


def _add_sweep(commands: _Commands) -> None:
    from harness.model.sweep import DEFAULT_SIGNAL

    sweep = commands.add_parser(
        "sweep",
        help="deliver a signal at every place the server sleeps, one run each, and say which ones break it",
        description="An EINTR audit. A first run notes every site where a task of the server sleeps in a call "
        "(the call, the role family, the Python line or the calling code); then, for each site, a run of its own "
        "delivers a signal while a task sleeps there, and says what it came to: broken (the run failed where the "
        "first one passed), restarted by the kernel (SA_RESTART), retried by the program (its loop, or CPython's "
        "PEP 475), or safe. The clients' bytes are held until the server stands still, so that every read that "
        "waits for a client is entered first. Exit status 1 when a site is broken, 0 when none is.",
        epilog="examples:\n  harness sweep c/echo_server\n  harness sweep c/echo_server --sa-restart\n"
        "  harness sweep fork_sigchld --signal SIGUSR1 --json sweep.json\n"
        "  harness sweep expectations/fork_sigchld.expect.yaml --html sweep.html\n"
        "  harness sweep --connections 2 -- ./my_server --port {port}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_source(sweep, traces=False)
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
        help="run each broken site again with SA_RESTART added to every handler the program installs (the tracer "
        "rewrites sa_flags at rt_sigaction's entry) and say whether that alone fixes it",
    )
    sweep.add_argument(
        "-j",
        "--jobs",
        type=_whole(1, 64, "--jobs"),
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
    sweep.set_defaults(run=_cmd_sweep)


#: Every command, in the order of the help, with the function that adds its parser.
_COMMANDS: dict[str, Callable[[_Commands], None]] = {
    "check": _add_check,
    "trace": _add_trace,
    "run": _add_run,
    "explain": _add_explain,
    "show": _add_show,
    "report": _add_report,
    "record": _add_record,
    "diff": _add_diff,
    "sweep": _add_sweep,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, with a help text for every command and option.

    Given the name of a ``command``, only that command's parser is built:
    a start that reads its command's options (``harness trace ...``) does not
    build the seven others (3 ms of a start on this project's machine).
    Anything else (no command, a misspelt one, ``--help``) gets them all.
    """
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Observe and assert what multi-process servers do in the kernel.",
        epilog="run, explain, report, record and diff take a bundled variant, an expectation file (*.expect.yaml) "
        "or your own server after '--', e.g.\n  harness run -- python3 my_server.py --port {port}\n\n"
        "'harness' alone prints this help on stderr and exits with 2, as for any wrong command line.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show program's version number and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in _COMMANDS.items():
        if command not in _COMMANDS or name == command:
            add(commands)
    return parser


def _is_null_device(path: str) -> bool:
    """Whether ``path`` is the null device (/dev/null, or a link to it): what is written there is lost."""
    try:
        return os.path.samestat(os.stat(path), os.stat(os.devnull))
    except OSError:
        return False


@contextmanager
def _output_file(path: str) -> Iterator[TextIO]:
    """Open a file the user named for the command to write; a failure to close it (its last buffer) names its path.

    A directory, or a FIFO nobody reads, is refused at once (:func:`harness.model.files.open_given`).
    """
    from harness.model.files import open_given

    stream = open_given(Path(path))
    try:
        yield stream
    finally:
        try:
            stream.close()
        except OSError as error:
            raise OutputError(path, error) from None


def _text_renderer(args: argparse.Namespace) -> TextRenderer:
    from harness.model.strace_format import TextRenderer

    return TextRenderer(_time_columns(args), full_stacks=args.verbose, notation=_notation(args))


@contextmanager
def _trace_outputs(args: argparse.Namespace) -> Iterator[Listener | None]:
    """The listener that writes a live run as text (stderr or -o) and as JSON Lines (--jsonl).

    A write that fails (a full disk, /dev/full, a /proc file) is one
    :class:`OutputError` naming the file; raised in the tracer, it ends the
    run, whose tree is killed.
    """
    with ExitStack() as stack:
        text = stack.enter_context(_output_file(args.output)) if args.output else sys.stderr
        jsonl = stack.enter_context(_output_file(args.jsonl)) if args.jsonl else None
        # Text sent to /dev/null is never rendered, nor is its renderer imported:
        # `-o /dev/null --jsonl FILE` pays for JSON only.
        discarded = args.output is not None and _is_null_device(args.output)
        renderer = None if discarded else _text_renderer(args)
        # A person watching a terminal sees each line at once; a file gets whole buffers,
        # so that tracing does not pay one write(2) per event.
        live = text.isatty()

        def listener(point: SyscallEntry | Event) -> None:
            if renderer is not None:
                try:
                    text.write(renderer.feed(point))
                    if live:
                        text.flush()
                except OSError as error:
                    raise OutputError(args.output or "stderr", error) from None
            if jsonl is not None and not isinstance(point, SyscallEntry):
                try:
                    jsonl.write(event_to_json(point))
                except OSError as error:
                    raise OutputError(args.jsonl, error) from None

        try:
            yield None if renderer is None and jsonl is None else listener
        finally:  # a call left open ends its line, so that a harness: line after it starts a line of its own
            if renderer is not None:
                with suppress(OSError):  # a failed text output is reported where it failed, or at its close
                    text.write(renderer.flush())


def _cmd_trace(args: argparse.Namespace) -> int:
    from harness.model.syscalls import DEFAULT_SYSCALLS
    from harness.running.tracer import Tracer

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


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.running.sources import run_plan

    run = run_plan(_one_plan(args, "run"), port=args.port, outputs=_trace_outputs(args), seccomp=args.seccomp)
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


def _cmd_show(args: argparse.Namespace) -> int:
    from harness.model.strace_format import render_trace
    from harness.running.sources import read_trace

    trace = read_trace(args.trace_file)
    times = _time_columns(args)
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
    for line in render_trace(trace, times, full_stacks=args.verbose, notation=_notation(args)):
        print(line)
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from harness.running.stories import record_golden

    plan = _one_plan(args, "record")
    start_after = args.start_after
    recorded = record_golden(plan, start_after=start_after, path=Path(args.output) if args.output else None)
    golden = recorded.golden
    if golden.start_after is None:
        print(
            f"harness: {plan.label}: no {start_after} call in the trace: the stories start at the beginning",
            file=sys.stderr,
        )
    counts = ", ".join(f"{role} {len(lines)}" for role, lines in golden.roles.items())
    print(f"wrote {recorded.path}: events per role: {counts}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from harness.running.stories import diff_sources

    sources = _sources(args, [args.a, args.b])
    if len(sources) != 2:
        raise UsageError(
            "give two sides to compare: A B, or A and your own server after '--' (harness diff A -- CMD ...)"
            if len(sources) < 2
            else "give two sides to compare, not three: A B, or A -- CMD ... (then B is your command)"
        )
    diff = diff_sources(*sources, options=_run_options(args))
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


def _cmd_sweep(args: argparse.Namespace) -> int:
    import json

    from harness.analysis.sweep_page import render_sweep_page
    from harness.analysis.sweep_table import sweep_table
    from harness.running.sweep import SweepOptions, sweep_plan

    if args.python_frames:
        print("harness: a sweep reads Python frames anyway; --python-frames changes nothing", file=sys.stderr)
    plan = _one_plan(args, "sweep")
    outputs = [path for path in (args.json, args.jsonl, args.html) if path not in (None, "-")]
    for path in outputs:  # refused before the runs, not after them
        with _output_file(path):
            pass
    options = SweepOptions(signal=args.signal, at=args.at, sa_restart=args.sa_restart, jobs=args.jobs)
    check = None
    if plan.origin == "expectation":  # each run is held to the file's promises too (read again: pickled to workers)
        from harness.analysis.verdicts import first_failed_assertion
        from harness.model.loader import load_expectations

        check = functools.partial(first_failed_assertion, load_expectations(plan.label))
    say = None if args.quiet else (lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    result = sweep_plan(plan, options, check=check, progress=say)
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
            with _output_file(path) as stream:
                stream.write(text)
    return 1 if result.broken else 0


def _expectation_paths(paths: Sequence[str]) -> list[Path]:
    """The expectation files the PATH arguments of ``harness check`` name: files as given, directories searched.

    Without PATHs, ``expectations/`` here; where there is none (an installed
    harness run from anywhere), the bundled expectations, and a line on stderr
    saying so, so that nobody mistakes them for their own.
    """
    from harness.faces import SUFFIX
    from harness.model.variants import expectations_dir

    if _checks_the_bundled_files(paths):
        bundled = expectations_dir()
        print(
            f"harness: no expectations/ here: checking the bundled expectations in {bundled} "
            "(the traces of failing runs go here, not into the installed package)",
            file=sys.stderr,
        )
        paths = [str(bundled)]
    found: list[Path] = []
    for name in paths or ["expectations"]:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{SUFFIX}")))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"no such file or directory: {name}")
    if not found:
        raise UsageError(f"no expectation files (*{SUFFIX}) in {', '.join(paths or ['expectations'])}")
    return found


def _checks_the_bundled_files(paths: Sequence[str]) -> bool:
    """Whether ``harness check`` falls back to the bundled expectations: no PATHs, and no ``expectations/`` here."""
    return not paths and not Path("expectations").is_dir()


def _check_server(args: argparse.Namespace) -> ServerSpec | None:
    """The server in place of each file's: ``--server`` (a variant, or an expectation file's), ``--server-command``."""
    from harness.model.loader import server_spec_of_command
    from harness.model.scenario import DEFAULT_PROTOCOL
    from harness.running.sources import plan_of

    if args.server_command is not None:
        try:
            words = shlex.split(args.server_command)
        except ValueError as error:
            raise UsageError(f"--server-command: cannot split the command: {error}") from None
        return server_spec_of_command(words, protocol=args.protocol or DEFAULT_PROTOCOL, here=Path.cwd())
    if args.protocol is not None:
        raise UsageError("--protocol is for --server-command; a variant or an expectation file has its own")
    return plan_of(args.server).server if args.server else None


def _check_outcomes(args: argparse.Namespace) -> Iterator[FileOutcome]:
    """What ``harness check`` finds: each file checked on a run of its server, or on the trace ``--trace`` names."""
    from harness.running.check import check_files, check_files_on_trace
    from harness.running.sources import read_trace

    if args.trace is None:
        server = _check_server(args)
        traces = Path(args.traces) if args.traces else None
        if traces is None and _checks_the_bundled_files(args.paths):
            traces = Path.cwd()  # the bundled expectations: their directory is the installed package's
        return check_files(
            _expectation_paths(args.paths), server=server, traces=traces, python_frames=args.python_frames
        )
    if args.server or args.server_command or args.traces or args.protocol:
        raise UsageError(
            "--trace checks a recorded trace and runs nothing: leave out --server, --server-command, "
            "--protocol and --traces"
        )
    trace = read_trace(args.trace)
    return check_files_on_trace(_expectation_paths(args.paths), Path(args.trace), trace)


def _cmd_check(args: argparse.Namespace) -> int:
    from harness.running.check import CheckSummary

    started = time.monotonic()
    outcomes: list[FileOutcome] = []
    for outcome in _check_outcomes(args):
        _print_outcome(outcome, verbose=args.verbose)
        outcomes.append(outcome)
    summary = CheckSummary.of(outcomes)
    print(f"{summary} in {summary.files} file(s) ({time.monotonic() - started:.1f} s)")
    return summary.exit_status


def _print_outcome(outcome: FileOutcome, *, verbose: bool) -> None:
    """One file's lines of ``harness check``: a header, a line per assertion, a report under each failure."""
    from harness.running.check import FileCheckedOnTrace, FileInvalid, FileNotRun

    if isinstance(outcome, FileInvalid):
        print(f"ERROR {outcome.error}", file=sys.stderr)
        return
    if isinstance(outcome, FileNotRun):
        print(f"ERROR {outcome.path}: {outcome.error}", file=sys.stderr)
        return
    path = outcome.path
    if isinstance(outcome, FileCheckedOnTrace):
        print(f"{path} (on the trace {outcome.trace_file}; nothing run)")
        _print_results(outcome.results, path, verbose=verbose)
        return
    checked = outcome
    if checked.run.interrupted_by is not None:
        print(f"{path}: {checked.run.summary()}", file=sys.stderr)
        return
    scenario = checked.expectation.scenario
    header = f"{checked.server_as_run}, {scenario.connections} connections, {scenario.mode}, {checked.seconds:.1f} s"
    print(f"{path} ({header})")
    for warning in checked.expectation.warnings:  # valid, but most likely a typo: shown, not failed
        print(str(warning), file=sys.stderr)
    _print_results(checked.results, path, verbose=verbose)
    if outcome.failure_trace is not None:
        written = outcome.failure_trace
        print(f"  trace of the failing run: {written} (and .txt; 'harness show {written}' prints it)")
    if outcome.trace_not_kept is not None:
        print(f"harness: {outcome.trace_not_kept}", file=sys.stderr)


def _print_results(results: Sequence[AssertionResult], path: Path, *, verbose: bool) -> None:
    """A line per assertion, and its report under each failure."""
    for result in results:
        location = result.assertion.location
        line = f":{location.line}" if location else ""
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.assertion.name}  ({path.name}{line})")
        if not result.passed:
            print("\n".join("        " + text for text in result.report(verbose=verbose).splitlines()[1:]))


def _cmd_explain(args: argparse.Namespace) -> int:
    from harness.analysis.explain import explain
    from harness.analysis.finding import render
    from harness.running.sources import trace_of

    trace = trace_of(_one_source(args))
    if args.jsonl:
        with _output_file(args.jsonl) as stream:
            try:
                trace.write_jsonl(stream)
            except OSError as error:
                raise OutputError(args.jsonl, error) from None
    print(render(explain(trace), format=args.format))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.analysis.report import render_report
    from harness.analysis.timeline import lanes
    from harness.running.sources import trace_of

    source = _one_source(args)
    trace = trace_of(source)
    if isinstance(source, str):
        title = source
    else:
        title = f"{source.label}, {source.scenario.connections} connections, {source.scenario.mode}"
    try:
        with _output_file(args.output) as stream:
            stream.write(render_report(trace, title=title))
    except OSError as error:
        if error.filename is not None:  # it could not be opened: said as such by main
            raise
        raise OutputError(args.output, error) from None
    print(f"wrote {args.output}: {len(lanes(trace))} lanes, {len(trace)} events")
    return 0


def _open_error(error: OSError) -> str:
    return f"cannot open {error.filename}: {error.strerror}"


class _VersionAction(argparse.Action):
    """``--version``: looks the version up only when asked (importlib.metadata costs every start otherwise)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: object, values: object, option: object = None
    ) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    """The installed package's version (``importlib.metadata``): the one in pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("syscall-harness")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


#: The commands that take a server after ``--`` (``harness trace`` takes its command its own way).
_TAKE_A_COMMAND = ("run", "explain", "report", "record", "diff", "sweep")


def _split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """A command line split at its first ``--`` when the command takes a server there: (options, server words).

    Everything after ``--`` is the server's, even words that look like the
    harness's own options, as for ``harness trace -- CMD``.
    """
    argv = list(argv)
    if argv[:1] and argv[0] in _TAKE_A_COMMAND and "--" in argv:
        split = argv.index("--")
        return argv[:split], argv[split + 1 :]
    return argv, []


class _Terminated(Exception):
    """SIGTERM arrived outside a run: end the command as Ctrl-C would."""


@contextmanager
def _signals_end_the_command() -> Iterator[None]:
    """SIGTERM ends the command like Ctrl-C: no traceback, status 143; a run in progress handles both itself.

    Ctrl-C raises KeyboardInterrupt again from here on (:mod:`harness._start`
    ended the process at once while nothing had started), inside main's ``try``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    # SIGHUP (the terminal went away) ends the command as SIGTERM does, with its line; the signals the harness
    # never uses are ignored, so that a tracee's kill(getppid(), SIGUSR1) cannot end it without a word.
    handlers: dict[signal.Signals, Any] = {
        signal.SIGTERM: terminate,
        signal.SIGHUP: terminate,
        signal.SIGINT: signal.default_int_handler,
        signal.SIGUSR1: signal.SIG_IGN,
        signal.SIGUSR2: signal.SIG_IGN,
        signal.SIGALRM: signal.SIG_IGN,
    }
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words[0] if words else None)
    if not words:  # a person asking what there is: the whole help, as a usage error
        parser.print_help(sys.stderr)
        return 2
    options, command = _split_command(words)
    args = parser.parse_args(options)
    args.command_words = command
    sys.stdout = _StandardOutput(sys.stdout)
    try:
        with _signals_end_the_command():
            status: int = args.run(args)
            sys.stdout.flush()  # what is still buffered fails here, as this command's error, not at exit
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run stops itself and reports it)
        print("harness: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except _Terminated as ended:
        signum = ended.args[0]
        print(f"harness: {'hung up' if signum == signal.SIGHUP else 'terminated'}", file=sys.stderr)
        return 128 + signum
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


class _StandardOutput:
    """``sys.stdout``, whose failed writes (a full disk, ``/dev/full``) are one ``harness:`` line naming it.

    After the first failure, descriptor 1 goes to /dev/null, so that what is
    still buffered does not fail again at the interpreter's exit.  A reader
    that went away (``| head``) still raises BrokenPipeError, which ends the
    command quietly.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError) -> OutputError:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, self._stream.fileno())
        os.close(null)
        return OutputError("standard output", error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
