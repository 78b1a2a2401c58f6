"""The options several commands share, each declared once, and what they say once read.

A command's own options are declared beside its handler, in its module under
:mod:`harness.faces.commands`, as each of pytest's plugins declares its own;
an option that two commands take is declared here, so that its name, its help
and its range cannot drift apart between them.  Each default comes from the
model, imported inside the builder that shows it: a start pays only for the
parser of its own command (``harness trace -- CMD`` must start fast), and the
modules that run a source are imported when a command reads it.
"""

from __future__ import annotations

import argparse
import math
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from harness.model.errors import UsageError

if TYPE_CHECKING:
    from harness.model.injection import Injection
    from harness.model.scenario import ClientCommand
    from harness.model.strace_format import Notation, TimeColumns
    from harness.running.sources import RunOptions, RunPlan

#: What ``add_subparsers`` returns: the commands' parsers are added to it.
Commands = argparse._SubParsersAction  # argparse has no public name for this type


def _injection(text: str) -> Injection:
    from harness.model.injection import InjectionError, parse_injection

    try:
        return parse_injection(text)
    except InjectionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def whole(low: int, high: int, what: str) -> Callable[[str], int]:
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
        type=whole(1, MAX_CONNECTIONS, "connections"),
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
            type=whole(count.least, count.most, count.what),
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


def add_protocol(parser: argparse.ArgumentParser, what: str = "a command after --") -> None:
    """``--protocol``: what the clients of a user's own server speak (a variant or an expectation file has its own)."""
    from harness.model.scenario import DEFAULT_PROTOCOL, PROTOCOL_NAMES

    parser.add_argument(
        "--protocol",
        choices=PROTOCOL_NAMES,
        help=f"what the clients of {what} speak (default {DEFAULT_PROTOCOL}); "
        "a variant or an expectation file has its own",
    )


def add_live_outputs(parser: argparse.ArgumentParser) -> None:
    """The outputs of a live trace (see :func:`harness.faces.outputs.trace_outputs`)."""
    parser.add_argument("--jsonl", metavar="FILE", help="also write the events as JSON Lines to FILE")
    parser.add_argument("-o", "--output", metavar="TEXTFILE", help="write the text trace to TEXTFILE, not stderr")
    parser.add_argument(
        "--strace-log",
        metavar="FILE",
        help="also write the trace to FILE in strace's own 'strace -f -o' text (PID  call(args) = ret, unfinished "
        "and resumed halves, signals, exits; the times -t, -r and -T ask for), for tools made for strace logs; "
        "the harness reads it back as a trace (check --trace, explain, report, show, diff)",
    )
    add_full_stacks(parser)


def add_full_stacks(parser: argparse.ArgumentParser) -> None:
    """``-v``: a command that prints a trace can show each event's whole Python stack under its line."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each event's whole Python stack under its line (with --python-frames, or a trace that has "
        "them); trace also says at the end how the calls were stopped (seccomp prefilter or every call stepped), "
        "how many ptrace stops the run took and how many tasks ended",
    )


def add_time_columns(parser: argparse.ArgumentParser) -> None:
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


def add_notation(parser: argparse.ArgumentParser) -> None:
    """How much of the decoded structs the text shows, as strace's -v and -s (see :class:`Notation`)."""
    structs = parser.add_argument_group("structs in the text trace (as strace's)")
    structs.add_argument(
        "--no-abbrev",
        action="store_false",
        dest="abbrev",
        help="show every member of the structs strace abbreviates (wait4's and waitid's whole struct rusage), "
        "as strace's -v, --no-abbrev",
    )
    structs.add_argument(
        "-s",
        "--string-limit",
        type=_positive_count,
        metavar="N",
        dest="elements",
        help="show at most N elements of an array (poll's pollfds, epoll's events), then ..., as strace's -s "
        "(default 32, the most the tracer reads; --no-abbrev shows them all)",
    )


def notation(args: argparse.Namespace) -> Notation:
    """What :func:`add_notation`'s options say, as the text renderer takes it."""
    from harness.model.strace_format import Notation

    return Notation(abbrev=args.abbrev) if args.elements is None else Notation(args.abbrev, args.elements)


def time_columns(args: argparse.Namespace) -> TimeColumns:
    """What :func:`add_time_columns`'s options say, as the text renderer takes it."""
    from harness.model.strace_format import TimeColumns

    return TimeColumns(absolute=min(args.timestamps, 3), relative=args.relative, durations=args.durations)


def add_seccomp(parser: argparse.ArgumentParser, help: str) -> None:
    """``--seccomp``, on by default; each command that traces says in its own words what it does."""
    parser.add_argument("--seccomp", action=argparse.BooleanOptionalAction, default=True, help=help)


def add_inject(parser: argparse.ArgumentParser) -> None:
    """``--inject``, repeatable: every command that traces can make a call fail, as strace's --inject."""
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
COMMAND_SOURCE = "-- CMD ... {port} ..."


def add_python_frames(parser: argparse.ArgumentParser) -> None:
    """``--python-frames``: every command that runs a server can name the Python line of each call."""
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


def add_run_options(parser: argparse.ArgumentParser, *, from_golden: bool = False) -> None:
    """The options of a command that runs a source: the scenario, the time limit, injections, stop and clients."""
    _add_connections(parser, "connections to make", from_golden=from_golden)
    _add_scenario_counts(parser)
    _add_mode(parser)
    _add_timeout(parser)
    add_inject(parser)
    add_python_frames(parser)
    add_protocol(parser)
    _add_stop(parser)
    _add_client_command(parser)


def add_source(parser: argparse.ArgumentParser, *, traces: bool = True) -> None:
    """The source argument of a command (see source_kind), and the options of a run."""
    files = (
        "a JSON Lines trace (*.jsonl) or an strace -f log (told by its content; -ff's LOG prefix), " if traces else ""
    )
    parser.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help=f"a bundled variant, {files}an expectation file (*.expect.yaml) whose server is run; "
        f"or leave it out and give your own server after the options: {COMMAND_SOURCE}",
    )
    add_run_options(parser)


def run_options(args: argparse.Namespace) -> RunOptions:
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
    from harness.model.command_lines import client_command

    if text is None:
        return None
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise UsageError(f"--client-command: cannot split the command: {error}") from None
    if not words:
        raise UsageError("--client-command: give a command, e.g. 'curl -sf http://{host}:{port}/'")
    return client_command(words, here=Path.cwd())


def named_sources(args: argparse.Namespace, texts: Sequence[str | None]) -> list[str | RunPlan]:
    """The sources a command names, in order: its source arguments, then the command after ``--``.

    An expectation file is read (and a variant's name checked) now, before
    anything runs; traces and golden files are left to the command, which
    reads what it can use.  ``--protocol`` belongs to a command only.
    """
    from harness.model.command_lines import server_spec_of_command
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


def one_source(args: argparse.Namespace) -> str | RunPlan:
    """The one source of ``run``, ``explain``, ``report`` or ``record``, with the run options over a plan."""
    sources = named_sources(args, [args.source])
    if len(sources) != 1:
        raise UsageError(
            f"give one source: a variant, a file, or your own server after '--' ({COMMAND_SOURCE}), not "
            + ("none" if not sources else "both")
        )
    [source] = sources
    return source if isinstance(source, str) else source.with_options(run_options(args))


def one_plan(args: argparse.Namespace, command: str) -> RunPlan:
    """The one source of a command that runs a server (``run``, ``record``): a trace or golden file is refused."""
    source = one_source(args)
    if isinstance(source, str):
        raise UsageError(
            f"{source}: 'harness {command}' runs a server: give a variant, an expectation file (*.expect.yaml), "
            f"or your own server after '--' ({COMMAND_SOURCE})"
        )
    return source
