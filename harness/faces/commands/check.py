"""``harness check``: run the servers of expectation files and check their assertions (the main job).

Its options beside what reads them, and how its lines are printed; the
expectation model, the runs and the checks are imported by the handler, not
by a start that builds this parser.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.faces import options
from harness.model.errors import UsageError

if TYPE_CHECKING:
    from harness.analysis.verdicts import AssertionResult
    from harness.model.expectations import ServerSpec
    from harness.running.check import FileOutcome


def add(commands: options.Commands) -> None:
    """Add ``check``: paths, the server in place of each file's, or a recorded trace to check instead."""
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
        "  harness check --trace run.jsonl expectations/reaping.expect.yaml\n"
        "  harness check --trace strace.log expectations/fork_sigchld.expect.yaml\n\n"
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
    options.add_protocol(check, "--server-command's server")
    check.add_argument(
        "--trace",
        metavar="TRACE",
        help="check the files against this recorded trace instead of running anything: a JSON Lines trace "
        "(*.jsonl), or an strace log (strace -f -o LOG, -f on stderr, or -ff -o LOG's prefix or directory), "
        "told by its content",
    )
    check.add_argument("--traces", metavar="DIR", help="write the traces of failing runs to DIR, not beside the files")
    check.add_argument("-v", "--verbose", action="store_true", help="show every matched step in failure reports")
    options.add_python_frames(check)
    check.set_defaults(run=handle)


def handle(args: argparse.Namespace) -> int:
    """Check every file found and print a line per assertion; the status says whether all passed."""
    from harness.running.check import CheckSummary

    started = time.monotonic()
    outcomes: list[FileOutcome] = []
    for outcome in _check_outcomes(args):
        _print_outcome(outcome, verbose=args.verbose)
        outcomes.append(outcome)
    summary = CheckSummary.of(outcomes)
    print(f"{summary} in {summary.files} file(s) ({time.monotonic() - started:.1f} s)")
    return summary.exit_status


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
    from harness.model.command_lines import server_spec_of_command
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
