"""The ``harness`` command line.

Every mistake a person can make here ends in one line on stderr naming the
problem and the fix, with a distinct exit status (see harness.model.errors); a
traceback means a bug in the harness.

Each command is a module of :mod:`harness.faces.commands`, its parser beside
its handler; here are what they all go through: the parser, the split at
``--``, the signals that end a command, and the lines its errors end in.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from harness.faces.options import Commands
from harness.faces.outputs import StandardOutput
from harness.model.errors import HarnessError

# Each command's module is imported when its parser is built, not before: a start imports its own command's
# alone (``harness trace -- CMD`` must start fast), and each handler imports what it runs with.


def _check(commands: Commands) -> None:
    from harness.faces.commands import check

    check.add(commands)


def _trace(commands: Commands) -> None:
    from harness.faces.commands import trace

    trace.add(commands)


def _run(commands: Commands) -> None:
    from harness.faces.commands import run

    run.add(commands)


def _explain(commands: Commands) -> None:
    from harness.faces.commands import explain

    explain.add(commands)


def _show(commands: Commands) -> None:
    from harness.faces.commands import show

    show.add(commands)


def _report(commands: Commands) -> None:
    from harness.faces.commands import report

    report.add(commands)


def _record(commands: Commands) -> None:
    from harness.faces.commands import record

    record.add(commands)


def _diff(commands: Commands) -> None:
    from harness.faces.commands import diff

    diff.add(commands)


def _sweep(commands: Commands) -> None:
    from harness.faces.commands import sweep

    sweep.add(commands)


#: Every command, in the order of the help, with the function that adds its parser.
_COMMANDS: dict[str, Callable[[Commands], None]] = {
    "check": _check,
    "trace": _trace,
    "run": _run,
    "explain": _explain,
    "show": _show,
    "report": _report,
    "record": _record,
    "diff": _diff,
    "sweep": _sweep,
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


def _open_error(error: OSError) -> str:
    return f"cannot open {error.filename}: {error.strerror}"


class _VersionAction(argparse.Action):
    """``--version``: looks the version up only when asked (importlib.metadata costs every start otherwise)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: object, values: object, option: object = None
    ) -> None:
        from harness.faces.version import version

        print(f"{parser.prog} {version()}")
        parser.exit()


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
    if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:  # started under nohup(1): immune, and so is the command
        del handlers[signal.SIGHUP]
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
    sys.stdout = StandardOutput(sys.stdout)
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
