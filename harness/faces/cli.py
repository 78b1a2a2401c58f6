"""The ``harness`` command line.

Every mistake a person can make here ends in one line on stderr naming the
problem and the fix, with a distinct exit status (see harness.model.errors); a
traceback means a bug in the harness.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.model.errors import HarnessError, UsageError
from harness.model.events import Event, Listener, SyscallEntry
from harness.model.injection import Injection
from harness.model.scenario import DEFAULT_SCENARIO, DEFAULT_TIMEOUT, MODES, Scenario
from harness.model.strace_format import TextRenderer, render_trace
from harness.model.trace import event_to_json

if TYPE_CHECKING:
    from harness.running.check import FileOutcome

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


def _add_connections(
    parser: argparse.ArgumentParser, what: str = "connections to make", *, from_golden: bool = False
) -> None:
    """``--connections``; with ``from_golden``, a golden file's scenario comes before the default."""
    default = DEFAULT_SCENARIO.connections
    parser.add_argument(
        "--connections",
        type=int,
        default=None if from_golden else default,
        metavar="N",
        help=f"{what} (default: a golden file's scenario, else {default})"
        if from_golden
        else f"{what} (default {default})",
    )


def _add_messages(parser: argparse.ArgumentParser) -> None:
    default = DEFAULT_SCENARIO.messages
    parser.add_argument(
        "--messages", type=int, default=default, metavar="M", help=f"messages per connection (default {default})"
    )


def _add_concurrency(parser: argparse.ArgumentParser) -> None:
    default = DEFAULT_SCENARIO.concurrency
    parser.add_argument(
        "--concurrency",
        type=int,
        default=default,
        metavar="K",
        help=f"clients at a time (free mode; default {default})",
    )


def _add_mode(parser: argparse.ArgumentParser, help: str = "how a variant is run") -> None:
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_SCENARIO.mode, help=help)


def _add_live_outputs(parser: argparse.ArgumentParser) -> None:
    """The outputs of a live trace (see :func:`_trace_outputs`)."""
    parser.add_argument("--jsonl", metavar="FILE", help="also write the events as JSON Lines to FILE")
    parser.add_argument("-o", "--output", metavar="TEXTFILE", help="write the text trace to TEXTFILE, not stderr")


def _add_seccomp(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--seccomp", action="store_true", help=help)


def _add_inject(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--inject",
        action="append",
        default=[],
        type=_injection,
        metavar="SPEC",
        help="make a call fail or a signal arrive: CALL:error=ERRNO|signal=SIG[:when=N|N+][:role=ROLE], "
        "e.g. accept4:error=EINTR:when=2 (repeatable; injected events are marked INJECTED)",
    )


def _add_trace_source(parser: argparse.ArgumentParser) -> None:
    """The arguments of a command that reads a trace file or runs a variant for it (see source_kind)."""
    parser.add_argument("source", metavar="VARIANT|TRACE.jsonl", help="a bundled variant, or a JSON Lines trace")
    _add_connections(parser, "connections for a variant")
    _add_mode(parser)


def _scenario(args: argparse.Namespace) -> Scenario:
    """The scenario the scenario options of a command ask for (the others keep their defaults)."""
    given = {name: getattr(args, name) for name in ("connections", "messages", "concurrency", "mode") if name in args}
    return Scenario(**given)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with a help text for every command and option."""
    from harness.analysis.explain import FORMATS
    from harness.analysis.golden import DEFAULT_START

    parser = argparse.ArgumentParser(
        prog="harness",
        description="Observe and assert what multi-process servers do in the kernel.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="run the servers of expectation files and check their assertions (the main job)",
        description="Find every *.expect.yaml under PATHS, run the server each one names under the tracer, "
        "and check its assertions against the trace. One line per assertion, a report for each failure, "
        "and the traces of failing runs written beside their files (NAME.failed.jsonl and .txt).",
        epilog="examples:\n  harness check\n  harness check expectations/fork_sigchld.expect.yaml -v\n"
        "  harness check expectations/reaping.expect.yaml --server fork_no_reap\n\n"
        "exit status: 0 all passed, 1 an assertion failed, 65 an expectation file is invalid, 2 usage error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="expectation files, or directories to search (default: expectations/)"
    )
    check.add_argument(
        "--server",
        metavar="VARIANT",
        help="run this bundled variant instead of the one each file names: regression-check a sibling or "
        "changed server against an existing promise",
    )
    check.add_argument("--traces", metavar="DIR", help="write the traces of failing runs to DIR, not beside the files")
    check.add_argument("-v", "--verbose", action="store_true", help="show every matched step in failure reports")
    check.set_defaults(run=_cmd_check)

    trace = commands.add_parser(
        "trace",
        help="run a command under ptrace and print every process's syscalls, signals and exits",
        description="Run CMD under ptrace, following every process and thread it creates.",
        epilog=_TRACE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_live_outputs(trace)
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
    _add_seccomp(
        trace,
        "stop the tracee only at the recorded calls, with a seccomp-BPF filter (as strace --seccomp-bpf); "
        "falls back to stepping every call where seccomp cannot be used",
    )
    _add_inject(trace)
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
    _add_connections(run)
    _add_messages(run)
    _add_concurrency(run)
    _add_mode(
        run,
        "deterministic (default): the harness orders connections, exits and SIGCHLD through ptrace; "
        "free: natural timing",
    )
    _add_live_outputs(run)
    _add_seccomp(run, "use the seccomp-BPF prefilter (see harness trace --help)")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit (default {DEFAULT_TIMEOUT:g})",
    )
    run.add_argument("--port", type=int, metavar="PORT", help="the port to serve on (default: a free one)")
    _add_inject(run)
    run.set_defaults(run=_cmd_run)

    explain = commands.add_parser(
        "explain",
        help="explain a trace in words: interrupted calls and restarts, zombies, leaked descriptors",
        description="Run VARIANT (or read TRACE.jsonl) and explain, event by event, every interrupted or restarted "
        "call (which signal, from whom, the disposition in force, what the kernel and then the program did), "
        "every zombie and re-parented child, and every descriptor a process kept that it should have closed.",
        epilog="examples:\n  harness explain fork_sigchld\n  harness explain c/echo_server_restart --format markdown\n"
        "  harness explain run.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_trace_source(explain)
    explain.add_argument("--format", choices=FORMATS, default=FORMATS[0], help="text (default) or markdown")
    explain.set_defaults(run=_cmd_explain)

    show = commands.add_parser(
        "show",
        help="print a JSON Lines trace as text",
        description="Print a trace written by 'harness trace --jsonl' in strace's style.",
    )
    show.add_argument("trace_file", metavar="TRACE.jsonl")
    show.set_defaults(run=_cmd_show)

    report = commands.add_parser(
        "report",
        help="draw a trace as a self-contained HTML timeline: one lane per task, spawns, SIGCHLD, zombies",
        description="Run VARIANT (or read TRACE.jsonl) and write one HTML file, viewable offline: a lane per "
        "task in tree order, each call as a span from entry to return, interrupted calls (ERESTARTSYS, EINTR) "
        "highlighted, spawn and SIGCHLD arrows, zombie bands from a child's exit to its reap, and the findings "
        "of 'harness explain' beside it (click one to highlight its events).",
        epilog="examples:\n  harness report fork_sigchld -o fork_sigchld.html\n"
        "  harness report fork_no_reap --connections 5 -o zombies.html\n"
        "  harness report run.jsonl -o run.html\n\n"
        "exit status: 0 written, 1 the variant's run failed, 65 unreadable trace, 74 unwritable output, 2 usage",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_trace_source(report)
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    report.set_defaults(run=_cmd_report)

    record = commands.add_parser(
        "record",
        help="run a bundled variant deterministically and write its normalized trace as a golden file",
        description="Run VARIANT in deterministic mode (as 'harness run' does) and write each role's story, "
        "from the first CALL on, without pids, addresses or ports, to a YAML golden file that "
        "'harness diff' compares later runs with.",
        epilog="examples:\n  harness record fork_sigchld\n"
        "  harness record c/echo_server --connections 5 -o expectations/golden/echo5.golden.yaml\n"
        "  harness record fork_sigchld --messages 3 --start-after accept4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    record.add_argument("variant", metavar="VARIANT", help="a server in servers/: fork_sigchld, c/echo_server, ...")
    record.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the golden file to write (default: expectations/golden/VARIANT.golden.yaml, with / in VARIANT as _)",
    )
    _add_connections(record)
    _add_messages(record)
    record.add_argument(
        "--start-after",
        default=DEFAULT_START,
        metavar="CALL",
        help=f"start each story at the first CALL of the trace, its own line included (default: {DEFAULT_START}); "
        "when there is none, at the beginning",
    )
    record.set_defaults(run=_cmd_record)

    diff = commands.add_parser(
        "diff",
        help="compare two golden files, JSON Lines traces or variant runs, role by role",
        description="Compare the normalized stories of A and B role by role. Each is a golden file "
        "(*.golden.yaml), a JSON Lines trace (*.jsonl, from its first listen) or a bundled variant "
        "(run in deterministic mode, as 'harness record' does). Exit status 0 when they are the same, "
        "1 when they differ, 65 for an unreadable file, 2 for an unknown variant.",
        epilog="examples:\n  harness diff fork_sigchld fork_sigchld_restart\n"
        "  harness diff expectations/golden/fork_sigchld.golden.yaml fork_sigchld\n"
        "  harness diff run1.jsonl run2.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("a", metavar="A", help="a golden file (*.golden.yaml), a trace (*.jsonl) or a variant name")
    diff.add_argument("b", metavar="B", help="a golden file (*.golden.yaml), a trace (*.jsonl) or a variant name")
    _add_connections(diff, "connections for a variant that is run", from_golden=True)
    diff.set_defaults(run=_cmd_diff)
    return parser


@contextmanager
def _trace_outputs(args: argparse.Namespace) -> Iterator[Listener]:
    """The listener that writes a live run as text (stderr or -o) and as JSON Lines (--jsonl)."""
    with ExitStack() as stack:
        text = stack.enter_context(open(args.output, "w", encoding="utf-8")) if args.output else sys.stderr
        jsonl = stack.enter_context(open(args.jsonl, "w", encoding="utf-8")) if args.jsonl else None
        renderer = TextRenderer()
        # A person watching a terminal sees each line at once; a file gets whole buffers,
        # so that tracing does not pay one write(2) per event.
        live = text.isatty()

        def listener(point: SyscallEntry | Event) -> None:
            text.write(renderer.feed(point))
            if live:
                text.flush()
            if jsonl is not None and not isinstance(point, SyscallEntry):
                jsonl.write(event_to_json(point))

        yield listener
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
        )
        result = tracer.run()
    if result.interrupted_by:
        print(f"harness: {result.interrupted_by} received: the traced processes were killed", file=sys.stderr)
    return result.shell_status


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.running.sources import run_variant

    run = run_variant(
        args.variant,
        _scenario(args),
        port=args.port,
        timeout=args.timeout,
        outputs=_trace_outputs(args),
        seccomp=args.seccomp,
        injections=args.inject,
    )
    result = run.result
    print(f"{run.name}: {result.summary()}", file=sys.stderr)
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
    from harness.running.sources import read_trace

    for line in render_trace(read_trace(args.trace_file)):
        print(line)
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from harness.running.stories import record_golden

    recorded = record_golden(
        args.variant,
        _scenario(args),
        start_after=args.start_after,
        path=Path(args.output) if args.output else None,
    )
    golden = recorded.golden
    if golden.start_after is None:
        print(
            f"harness: {golden.server}: no {args.start_after} call in the trace: the stories start at the beginning",
            file=sys.stderr,
        )
    counts = ", ".join(f"{role} {len(lines)}" for role, lines in golden.roles.items())
    print(f"wrote {recorded.path}: events per role: {counts}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from harness.running.stories import diff_sources

    diff = diff_sources(args.a, args.b, connections=args.connections)
    for story in (diff.a, diff.b):
        if story.missed_start is not None:
            print(
                f"harness: {story.label}: no {story.missed_start} call in the trace: compared from the start",
                file=sys.stderr,
            )
    for line in diff.lines:
        print(line)
    if diff.same:
        print(f"{args.a} and {args.b}: the same ({len(diff.a.roles)} roles, {diff.a.events} events)")
    return 0 if diff.same else 1


def _expectation_paths(paths: Sequence[str]) -> list[Path]:
    """The expectation files the PATH arguments of ``harness check`` name: files as given, directories searched."""
    from harness.faces import SUFFIX

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


def _cmd_check(args: argparse.Namespace) -> int:
    from harness.faces.loader import load_expectations
    from harness.running.check import CheckSummary, check_files, server_spec

    override = server_spec(args.server) if args.server else None
    started = time.monotonic()
    outcomes = []
    for outcome in check_files(
        _expectation_paths(args.paths),
        load=load_expectations,
        server=override,
        traces=Path(args.traces) if args.traces else None,
    ):
        _print_outcome(outcome, verbose=args.verbose)
        outcomes.append(outcome)
    summary = CheckSummary.of(outcomes)
    print(f"{summary} in {summary.files} file(s) ({time.monotonic() - started:.1f} s)")
    return summary.exit_status


def _print_outcome(outcome: FileOutcome, *, verbose: bool) -> None:
    """One file's lines of ``harness check``: a header, a line per assertion, a report under each failure."""
    from harness.running.check import FileInvalid, FileNotRun

    if isinstance(outcome, FileInvalid):
        print(f"ERROR {outcome.error}", file=sys.stderr)
        return
    if isinstance(outcome, FileNotRun):
        print(f"ERROR {outcome.path}: {outcome.error}", file=sys.stderr)
        return
    path, checked = outcome.path, outcome.checked
    scenario = checked.expectation.scenario
    print(f"{path} ({checked.server}, {scenario.connections} connections, {scenario.mode}, {checked.seconds:.1f} s)")
    for warning in checked.expectation.warnings:  # valid, but most likely a typo: shown, not failed
        print(str(warning), file=sys.stderr)
    for result in checked.results:
        location = result.assertion.location
        line = f":{location.line}" if location else ""
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.assertion.name}  ({path.name}{line})")
        if not result.passed:
            print("\n".join("        " + text for text in result.report(verbose=verbose).splitlines()[1:]))
    if outcome.failure_trace is not None:
        written = outcome.failure_trace
        print(f"  trace of the failing run: {written} (and .txt; 'harness show {written}' prints it)")


def _cmd_explain(args: argparse.Namespace) -> int:
    from harness.analysis.explain import explain, render
    from harness.running.sources import trace_of

    print(render(explain(trace_of(args.source, _scenario(args))), format=args.format))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.analysis.report import lanes, render_report
    from harness.running.sources import source_kind, trace_of

    trace = trace_of(args.source, _scenario(args))
    title = args.source
    if source_kind(args.source) == "variant":
        title += f", {args.connections} connections, {args.mode}"
    Path(args.output).write_text(render_report(trace, title=title), encoding="utf-8")
    print(f"wrote {args.output}: {len(lanes(trace))} lanes, {len(trace)} events")
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
