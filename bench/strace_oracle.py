"""How many of strace's own decoding tests the harness passes: strace's test programs as the oracle.

strace's test suite (``tests/*.c`` in its source tree) is a set of programs
that make calls and print on stdout the exact lines strace must write for
them; ``tests/gen_tests.in`` gives each test's strace options.  This script
runs each program under ``harness trace`` with the same calls and signals
selected (and strace's ``-v``, ``-s`` and ``-e inject=`` as ``--no-abbrev``,
``-s`` and ``--inject``), keeps the lines of the program's own process (strace without
``-f`` follows no child), drops the harness's ``[pid N role]`` prefix and its
``+++ spawned`` lines (strace has no such line), and compares with what the
program printed, line for line.

    # once: a strace tree (fetched elsewhere), configured
    ./bootstrap && ./configure --enable-mpers=no
    python bench/strace_oracle.py --tree /path/to/strace           # the default tests
    python bench/strace_oracle.py --tree /path/to/strace kill wait4 -v   # two tests, diffs shown

The test programs are built with ``make -C tests NAME`` (the script does
it).  Not part of the test suite: CI cannot reach strace's source; the
suite's own programs (tests/integration/programs/decoding/) are written in
strace's way instead.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: strace's tests named after a call the harness decodes, or that it names in a story.
DEFAULT_TESTS = (
    "accept",
    "accept4",
    "clone3",
    "clone_parent",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "epoll_pwait",
    "epoll_wait",
    "fcntl",
    "futex",
    "getpgrp",
    "getpid",
    "getppid",
    "getsid",
    "gettid",
    "kill",
    "nanosleep",
    "pipe2",
    "poll",
    "ppoll",
    "pselect6",
    "restart_syscall",
    "rt_sigaction",
    "rt_sigreturn",
    "select",
    "signal_receive",
    "tgkill",
    "tkill",
    "wait4",
    "waitid",
    "wait4-v",
    "waitid-v",
    "ppoll-v",
    "clone3-success",
)

#: Tests whose script does not diff the program's output with strace's log: what it does instead.
#: rt_sigaction's script matches the log with an awk program (tests/rt_sigaction.awk); restart_syscall's
#: program prints extended regular expressions, one per line, that the log's lines must match whole.
_AWK = frozenset({"rt_sigaction"})
_GREP = {"restart_syscall": "restart_syscall,nanosleep,clock_nanosleep"}

_PREFIX = re.compile(r"^\[pid (\d+) ([^\]]*)\] ")


@dataclass(frozen=True)
class Options:
    """What a test's line in gen_tests.in asks of strace, as far as the comparison needs it."""

    program: str
    calls: str
    signals: str  # "all", "none", or "!NAME" (every signal but one)
    redirects: tuple[tuple[int, str], ...]
    verbose: bool
    elements: int | None  # -s N: the most array elements shown
    inject: str | None


def options_of(tree: Path, test: str) -> Options:
    """Read a test's strace options from tests/gen_tests.in."""
    line = next(
        (
            raw
            for raw in (tree / "tests" / "gen_tests.in").read_text().splitlines()
            if raw.split("\t", 1)[0].split(" ", 1)[0] == test
        ),
        test,
    )
    words = shlex.split(line.split(None, 1)[1]) if len(line.split(None, 1)) > 1 else []
    program = test.split("-", 1)[0] if not (tree / "tests" / f"{test}.c").exists() else test
    if words and words[0].startswith("+"):  # "+clone_ptrace.test": the generic script, default options
        words = []
    calls, signals, inject, verbose, redirects = _GREP.get(test, program), "all", None, False, []
    elements: int | None = None
    for index, word in enumerate(words):
        value = word.split("=", 1)[1] if "=" in word else words[index + 1] if index + 1 < len(words) else ""
        if re.fullmatch(r"(\d+)>>(\S+)", word):
            fd, path = word.split(">>")
            redirects.append((int(fd), path))
        elif word in ("-v",):
            verbose = True
        elif re.fullmatch(r"-s\d+", word):
            elements = int(word[2:])
        elif word == "-s" and value.isdigit():
            elements = int(value)
        elif re.match(r"(-e ?|--)?trace=", word) or (word == "-e" and value.startswith("trace=")):
            calls = word.split("=", 1)[1] if "=" in word else value.split("=", 1)[1]
        elif re.match(r"(-e ?|--)?signal=", word) or (word == "-e" and value.startswith("signal=")):
            spec = word.split("=", 1)[1] if "=" in word else value.split("=", 1)[1]
            signals = "none" if spec == "none" else spec
        elif word.startswith(("-einject=", "--inject=")):
            inject = word.split("=", 1)[1]
    return Options(program, calls, signals, tuple(redirects), verbose, elements, inject)


def build(tree: Path, programs: list[str]) -> None:
    """Build strace's test programs (and the library they share) in the tree."""
    subprocess.run(["make", "-s", "-C", str(tree / "tests"), *programs], check=True, stdout=subprocess.DEVNULL)


def _signal_shown(line: str, signals: str) -> bool:
    if not line.startswith("--- SIG"):
        return True
    if signals == "none":
        return False
    if signals.startswith("!"):
        excluded = {"SIG" + name.upper().removeprefix("SIG") for name in signals[1:].split(",")}
        return line.split()[1] not in excluded
    return True


def harness_lines(tree: Path, test: str, options: Options) -> tuple[list[str], list[str]]:
    """(the program's stdout, the harness's lines of the program's own process)."""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "log"
        fds = {}
        for fd, path in options.redirects:
            fds[fd] = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            command = [sys.executable, "-m", "harness", "trace", "--syscalls", options.calls, "-o", str(log)]
            if options.verbose:
                command.append("--no-abbrev")  # strace's -v
            if options.elements is not None:
                command += ["-s", str(options.elements)]
            if options.inject is not None:  # strace's -e inject=CALL:retval=N, which --inject reads alike
                command += ["--inject", options.inject]
            # Each redirect must land on its own number in the program: dup the opened file there.
            preexec = [(opened, fd) for fd, opened in fds.items()]

            def place() -> None:
                for opened, fd in preexec:
                    os.dup2(opened, fd)

            done = subprocess.run(
                [*command, "--", f"./{options.program}"],
                cwd=tree / "tests",
                capture_output=True,
                text=True,
                timeout=60,
                close_fds=False,  # the redirected numbers, placed by place(), must reach the program
                preexec_fn=place,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
            )
        finally:
            for opened in fds.values():
                os.close(opened)
        expected = done.stdout.splitlines()
        lines = log.read_text().splitlines() if log.exists() else [f"(no log; stderr: {done.stderr.strip()})"]
    first = _PREFIX.match(lines[0]) if lines else None
    own = first.group(1) if first else None
    kept = []
    for line in lines:
        match = _PREFIX.match(line)
        if match is None:
            kept.append(line)  # a continuation (none in these tests) or a message
            continue
        if match.group(1) != own:
            continue
        body = line[match.end() :]
        if body.startswith(("+++ spawned ", "+++ exec ")) or not _signal_shown(body, options.signals):
            continue
        if kept and kept[-1].endswith(" <unfinished ...>") and body.startswith("<... "):
            # strace without -f follows no other task, so nothing splits a call it shows: join the halves
            # strace's rule: an entry ends with the next argument's separator ("wait4(-1,  <unfinished ...>")
            # or with nothing ("accept(3, NULL, NULL <unfinished ...>"), and the exit goes on from there.
            head = kept.pop().removesuffix("<unfinished ...>").rstrip()
            rest = body.split(" resumed>", 1)[1]
            body = head + (" " if head.endswith(",") else "") + rest
        kept.append(body)
    return expected, kept


def _grep_matches(patterns: list[str], lines: list[str]) -> bool:
    """As the test's ``match_grep`` (``grep -E -x`` per pattern; a leading ``!`` says no line may match)."""
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = re.compile(pattern.removeprefix("!").replace("[[:xdigit:]]", "[0-9a-fA-F]"))
        if any(regex.fullmatch(line) for line in lines) == negated:
            return False
    return True


def _awk_matches(program: Path, lines: list[str]) -> bool:
    done = subprocess.run(
        ["gawk", "-f", str(program)],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env={**os.environ, "AWKPATH": str(program.parent)},
    )
    return done.returncode == 0


def main() -> int:
    """Run the tests asked for; exit 0 when every one prints what strace prints."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, required=True, help="a configured strace source tree")
    parser.add_argument("tests", nargs="*", default=list(DEFAULT_TESTS), help="test names (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the difference of every failing test")
    args = parser.parse_args()
    chosen = {test: options_of(args.tree, test) for test in args.tests}
    build(args.tree, sorted({options.program for options in chosen.values()}))
    matched = 0
    for test, options in chosen.items():
        expected, got = harness_lines(args.tree, test, options)
        if test in _AWK:
            same = _awk_matches(args.tree / "tests" / f"{test}.awk", got)
            expected = got if same else ["(the awk program rejects the lines below)", *got]
        elif test in _GREP:
            same = _grep_matches(expected, got)
            expected = expected if not same else got
        else:
            same = expected == got
        matched += same
        wrong = sum(1 for line in difflib.ndiff(expected, got) if line.startswith("- "))
        print(f"{test:20} {'match' if same else f'{wrong} of {len(expected)} lines differ'}")
        if not same and args.verbose:
            sys.stdout.writelines(
                line + "\n" for line in difflib.unified_diff(expected, got, "strace", "harness", lineterm="", n=0)
            )
    print(f"{matched} of {len(chosen)} tests print what strace prints")
    return 0 if matched == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
