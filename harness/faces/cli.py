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

from harness.model.errors import HarnessError, TraceInputError, UsageError
from harness.model.events import Event, Listener, SyscallEntry
from harness.model.injection import Injection
from harness.model.strace_format import TextRenderer, render_trace
from harness.model.trace import Trace, TraceFileError, event_to_json

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
    """The arguments of a command that reads a trace file or runs a variant for it (see :func:`trace_of`)."""
    parser.add_argument("source", metavar="VARIANT|TRACE.jsonl", help="a bundled variant, or a JSON Lines trace")
    parser.add_argument("--connections", type=int, default=3, metavar="N", help="connections for a variant (default 3)")
    parser.add_argument(
        "--mode", choices=("deterministic", "free"), default="deterministic", help="how a variant is run"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with a help text for every command and option."""
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
    explain.add_argument("--format", choices=("text", "markdown"), default="text", help="text (default) or markdown")
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
    record.add_argument("--connections", type=int, default=3, metavar="N", help="connections to make (default 3)")
    record.add_argument("--messages", type=int, default=1, metavar="M", help="messages per connection (default 1)")
    record.add_argument(
        "--start-after",
        default="listen",
        metavar="CALL",
        help="start each story at the first CALL of the trace, its own line included (default: listen); "
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
    diff.add_argument(
        "--connections",
        type=int,
        metavar="N",
        help="connections for a variant that is run (default: a golden file's scenario, else 3)",
    )
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
    from harness.model.errors import PortInUse
    from harness.model.scenario import Scenario
    from harness.running.run import free_port, port_in_use, run_server
    from harness.running.variants import find_variant

    variant = find_variant(args.variant)
    scenario = Scenario(args.connections, args.messages, args.concurrency, args.mode)
    if args.port is not None and port_in_use(args.port):
        raise PortInUse(
            f"port {args.port} is already taken by another process: choose another --port, "
            "or leave --port out to get a free one"
        )
    port = args.port if args.port is not None else free_port()
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
            injections=args.inject,
        )
    print(f"{variant.name}: {result.summary()}", file=sys.stderr)
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
    try:
        trace = Trace.read_jsonl(args.trace_file)
    except TraceFileError as error:
        raise TraceInputError(str(error)) from None
    for line in render_trace(trace):
        print(line)
    return 0


def _run_for_golden(name: str, connections: int, messages: int) -> tuple[str, dict[str, int | str], Trace]:
    """Run a variant in deterministic mode as 'harness run' does: its name, its scenario, and its trace.

    A failed run raises its error: a golden story of a failed run would mean nothing.
    """
    from dataclasses import asdict

    from harness.model.scenario import Scenario
    from harness.running.check import run_spec, server_spec

    spec = server_spec(name)
    result = run_spec(spec, Scenario(connections, messages))
    failure = result.failure()
    if failure is not None:
        raise failure
    return str(spec), asdict(Scenario(connections, messages)), result.trace


def _cmd_record(args: argparse.Namespace) -> int:
    from harness.analysis.golden import golden_from_trace, write_golden
    from harness.model.syscalls import check_syscalls

    check_syscalls([args.start_after])
    name, scenario, trace = _run_for_golden(args.variant, args.connections, args.messages)
    golden = golden_from_trace(trace, server=name, scenario=scenario, start_after=args.start_after)
    if golden.start_after is None:
        print(
            f"harness: {name}: no {args.start_after} call in the trace: the stories start at the beginning",
            file=sys.stderr,
        )
    path = args.output or os.path.join("expectations", "golden", name.replace("/", "_") + ".golden.yaml")
    write_golden(path, golden)
    counts = ", ".join(f"{role} {len(lines)}" for role, lines in golden.roles.items())
    print(f"wrote {path}: events per role: {counts}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from harness.analysis.golden import (
        DEFAULT_START,
        GoldenFileError,
        GoldenTrace,
        diff_stories,
        golden_from_trace,
        read_golden,
    )
    from harness.running.variants import find_variant

    def read(source: str) -> GoldenTrace | Trace | str:
        """A golden file or a trace read now, or the name of a variant to run (checked now, run later)."""
        if source.endswith((".yaml", ".yml")):
            return read_golden(source)
        if source.endswith(".jsonl"):
            try:
                return Trace.read_jsonl(source)
            except TraceFileError as error:
                raise TraceInputError(str(error)) from None
        if os.path.exists(source):
            raise GoldenFileError(f"{source}: not a golden file (*.golden.yaml) nor a JSON Lines trace (*.jsonl)")
        return find_variant(source).name

    inputs = [read(args.a), read(args.b)]
    goldens = [item for item in inputs if isinstance(item, GoldenTrace)]
    scenario = goldens[0].scenario if goldens else {}
    start_after = goldens[0].start_after if goldens else DEFAULT_START  # compare like with like
    recorded = {key: value for key, value in scenario.items() if type(value) is int}  # Scenario checks the range
    connections = args.connections or recorded.get("connections", 3)
    messages = recorded.get("messages", 1)
    stories: list[dict[str, tuple[str, ...]]] = []
    for source, item in zip((args.a, args.b), inputs, strict=True):
        if isinstance(item, GoldenTrace):
            stories.append(dict(item.roles))
            continue
        if isinstance(item, str):
            _, settings, trace = _run_for_golden(item, connections, messages)
            golden = golden_from_trace(trace, server=item, scenario=settings, start_after=start_after)
        else:
            golden = golden_from_trace(item, start_after=start_after)
        if golden.start_after is None and start_after is not None:
            print(f"harness: {source}: no {start_after} call in the trace: compared from the start", file=sys.stderr)
        stories.append(dict(golden.roles))
    a_label, b_label = (args.a, args.b) if args.a != args.b else (f"{args.a} (A)", f"{args.b} (B)")
    lines = diff_stories(stories[0], stories[1], a_label=a_label, b_label=b_label)
    for line in lines:
        print(line)
    if not lines:
        events = sum(len(story) for story in stories[0].values())
        print(f"{args.a} and {args.b}: the same ({len(stories[0])} roles, {events} events)")
    return 1 if lines else 0


def _expectation_paths(paths: Sequence[str]) -> list[Path]:
    from harness.faces.loader import SUFFIX

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
    from harness.faces.loader import ExpectationError, load_expectations
    from harness.running.check import check_file, server_spec, write_failure_trace

    override = server_spec(args.server) if args.server else None
    passed = failed = invalid = 0
    errors: list[HarnessError] = []
    started = time.monotonic()
    files = _expectation_paths(args.paths)
    for path in files:
        try:
            expectation = load_expectations(path)
        except ExpectationError as error:
            print(f"ERROR {error}", file=sys.stderr)
            invalid += 1
            continue
        try:
            checked = check_file(expectation, server=override)
        except HarnessError as error:  # the server could not be run at all: no compiler, no ptrace, not found
            print(f"ERROR {path}: {error}", file=sys.stderr)
            errors.append(error)
            continue
        if checked.run.interrupted_status is not None:
            print(f"{path}: {checked.run.summary()}", file=sys.stderr)
            return checked.run.interrupted_status
        scenario = expectation.scenario
        print(
            f"{path} ({checked.server}, {scenario.connections} connections, {scenario.mode}, {checked.seconds:.1f} s)"
        )
        for result in checked.results:
            location = result.assertion.location
            line = f":{location.line}" if location else ""
            print(f"  {'PASS' if result.passed else 'FAIL'}  {result.assertion.name}  ({path.name}{line})")
            if not result.passed:
                print("\n".join("        " + text for text in result.report(verbose=args.verbose).splitlines()[1:]))
        passed += sum(result.passed for result in checked.results)
        failed += sum(not result.passed for result in checked.results)
        stale = path.parent / (path.name.removesuffix(".yaml").removesuffix(".expect") + ".failed.jsonl")
        if not checked.passed:
            written = write_failure_trace(checked, Path(args.traces) if args.traces else None)
            print(f"  trace of the failing run: {written} (and .txt; 'harness show {written}' prints it)")
        elif override is None and not args.traces:
            stale.unlink(missing_ok=True)
            stale.with_suffix(".txt").unlink(missing_ok=True)
    parts = [f"{passed} passed", f"{failed} failed"] + ([f"{invalid} invalid file(s)"] if invalid else [])
    parts += [f"{len(errors)} could not run"] if errors else []
    print(f"{', '.join(parts)} in {len(files)} file(s) ({time.monotonic() - started:.1f} s)")
    if errors:
        return errors[0].exit_status
    if invalid:
        return 65
    return 1 if failed else 0


def trace_of(source: str, *, connections: int = 3, mode: str = "deterministic") -> Trace:
    """A trace from a JSON Lines file, or from a run of the bundled variant of that name."""
    if source.endswith(".jsonl") or Path(source).is_file():
        try:
            return Trace.read_jsonl(source)
        except TraceFileError as error:
            raise TraceInputError(str(error)) from None
    from harness.model.scenario import Scenario
    from harness.running.check import run_spec, server_spec

    result = run_spec(server_spec(source), Scenario(connections, mode=mode))
    failure = result.failure()
    if failure is not None:
        raise failure
    return result.trace


def _cmd_explain(args: argparse.Namespace) -> int:
    from harness.analysis.explain import explain, render

    print(render(explain(trace_of(args.source, connections=args.connections, mode=args.mode)), format=args.format))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.analysis.report import lanes, render_report

    trace = trace_of(args.source, connections=args.connections, mode=args.mode)
    title = args.source
    if not (args.source.endswith(".jsonl") or Path(args.source).is_file()):
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
