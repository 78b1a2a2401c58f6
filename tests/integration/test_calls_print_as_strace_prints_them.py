"""Each catalogued call prints, in `harness trace`'s text, exactly the line strace prints for it.

In strace's own way (its tests/*.c): a small C program per call
(tests/integration/programs/decoding/CALL.c) makes the call, with the corner
cases strace's tests check (junk in the upper half of an ``int`` argument's
register, NULL and unmapped pointers, short buffers, nearly full signal
masks), and prints on stdout the line strace prints for it, with the real
pids, descriptors and addresses of that run, then ``+++ exited with 0 +++``.
The program's stdout is the expectation, so no pid or address is written here.

The program's own process is compared: the lines of its children (a
forked child's own calls) are left out, as strace without ``-f`` leaves
them out.  Each program's lines were checked against strace 6.1 on this
machine and against strace 7.x's sources and tests: the programs keep to
what both print alike (no flag or operation that only 7.x names).  The
second test runs strace itself on each program, where strace is installed,
so that an expectation that strace does not hold shows at once; a program
with a line that strace 6.1 prints otherwise than 7.x would be skipped there,
with ``strace_61_differs`` as the reason (none is).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.capability import missing
from support.programs import PROGRAMS, PYTHON
from support.strace_text import args_as_strace_shows

from harness.model.events import Event, SignalEvent, SyscallEvent, event_to_dict
from harness.running.sources import read_trace

#: The programs' sources, one per call, and the headers they share (oracle.h; released_child.h, loopback_peer.h).
SOURCES = PROGRAMS / "decoding"
#: A fence against a hang only: every program runs in well under a second.
TIMEOUT = 120


@dataclass(frozen=True)
class Decoding:
    """One program of SOURCES: which calls it traces and which signals its lines show."""

    program: str
    #: The calls traced (--syscalls for the harness, -e trace= for strace): the program's own, and those of
    #: the calls it needs beside them (clone for the children that wait4 reaps).
    syscalls: str
    #: The signals whose ``--- SIG... ---`` lines the program expects; every other signal's line is left
    #: out, as ``strace -e signal=none`` leaves it out (a child's SIGCHLD, a signal sent to oneself).
    signals: tuple[str, ...] = ()
    #: Why strace 6.1 prints a line of this program otherwise than the program expects (newer strace's
    #: form), or None where strace 6.1 prints every line as expected.
    strace_61_differs: str | None = None

    def __str__(self) -> str:
        return self.program


DECODINGS = [
    Decoding("listen", "listen"),
    Decoding("accept", "accept"),
    Decoding("accept4", "accept4"),
    Decoding("clone", "clone"),
    Decoding("clone3", "clone3"),
    Decoding("dup", "dup"),
    Decoding("dup2", "dup2"),
    Decoding("dup3", "dup3"),
    Decoding("close", "close"),
    Decoding("close_range", "close_range"),
    Decoding("wait4", "clone,wait4"),
    Decoding("waitid", "clone,waitid"),
    Decoding("kill", "kill"),
    Decoding("tkill", "tkill"),
    Decoding("tgkill", "tgkill"),
    Decoding("rt_sigaction", "rt_sigaction"),
    Decoding("rt_sigreturn", "rt_sigreturn", signals=("SIGUSR1",)),
    Decoding("pipe2", "pipe2"),
    Decoding("nanosleep", "nanosleep"),
    Decoding("setpgid", "setpgid"),
    Decoding("poll", "poll"),
    Decoding("ppoll", "ppoll"),
    Decoding("select", "select"),
    Decoding("pselect6", "pselect6"),
    Decoding("epoll_wait", "epoll_wait"),
    Decoding("epoll_pwait", "epoll_pwait"),
    Decoding("futex", "futex"),
    Decoding("fcntl", "fcntl"),
]

_PREFIX = re.compile(r"^\[pid (?P<pid>\d+) [^\]]*\] (?P<text>.*)$")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>\w+) resumed>")
_UNFINISHED = " <unfinished ...>"
#: The harness's own lines, which strace has no equivalent of.
_HARNESS_ONLY = ("+++ spawned ", "+++ exec ")


def _shown(text: str, signals: tuple[str, ...]) -> bool:
    """Whether strace, run as the test runs it, prints a line like TEXT."""
    if text.startswith("--- "):
        return text.split(" ", 2)[1] in signals
    return not text.startswith(_HARNESS_ONLY)


def joined(texts: Iterable[str]) -> list[str]:
    """One task's lines with each ``X(... <unfinished ...>`` and its ``<... X resumed>...`` made one line.

    strace without ``-f`` traces one task, which nothing interrupts, so it
    never splits a call; the harness splits a call whenever another task's
    line (here: a child's, left out) comes between its entry and its exit.
    They join as strace -f's own halves do: strace prints the call as far as
    its entry decoded it, then `` <unfinished ...>`` (``wait4(42,  <unfinished
    ...>``, two spaces), and ``<... wait4 resumed>`` then the rest, so that
    the first half without `` <unfinished ...>`` and the second without its
    ``<... X resumed>`` make the line strace prints whole.
    """
    lines: list[str] = []
    pending: dict[str, int] = {}  # the call's name -> the index of its unfinished line
    for text in texts:
        resumed = _RESUMED.match(text)
        if text.endswith(_UNFINISHED) and resumed is None:
            pending[text.split("(", 1)[0]] = len(lines)
            lines.append(text)
        elif resumed is not None and resumed["name"] in pending:
            index = pending.pop(resumed["name"])
            lines[index] = lines[index].removesuffix(_UNFINISHED) + text[resumed.end() :]
        else:
            lines.append(text)
    return lines


def harness_lines(log: str, signals: tuple[str, ...]) -> list[str]:
    """The lines of `harness trace -o` for the first process only, as strace without ``-f`` prints them."""
    matches = [_PREFIX.match(line) for line in log.splitlines()]
    if not matches or matches[0] is None or not all(matches):
        raise AssertionError(f"not a harness trace:\n{log}")
    own = matches[0]["pid"]
    return joined(m["text"] for m in matches if m is not None and m["pid"] == own and _shown(m["text"], signals))


def strace_lines(log: str, signals: tuple[str, ...]) -> list[str]:
    """The lines of an ``strace -o`` log (one process, no pid prefix), as the test compares them."""
    return [line for line in log.splitlines() if _shown(line, signals)]


def differs(expected: list[str], actual: list[str], tracer: str) -> str:
    """A unified diff of the program's expectation and a tracer's lines."""
    diff = difflib.unified_diff(expected, actual, "expected (the program's stdout)", tracer, lineterm="")
    return "\n".join(diff)


@pytest.fixture(scope="session")
def decoding_program(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Compile SOURCES/NAME.c once per session (per xdist worker); returns the binary's path.

    Linked statically: a dynamic program's loader closes the files it maps
    before main, lines of no program's making (``close(3) = 0``).
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    out = tmp_path_factory.mktemp("decoding")
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if compiler is None:
            missing("no C compiler (cc) on this machine")
        if name not in built:
            binary = out / name
            done = subprocess.run(
                [compiler, "-static", "-Wall", "-Werror", "-O1", "-o", str(binary), str(SOURCES / f"{name}.c")],
                capture_output=True,
                text=True,
                check=False,
            )
            if "cannot find -lc" in done.stderr:
                missing("cc cannot link a static program here: apt-get install libc6-dev")
            assert done.returncode == 0, f"{name}.c does not build:\n{done.stderr}"
            built[name] = binary
        return built[name]

    return build


def _run(argv: list[str], cwd: Path) -> str:
    """Run a tracer on a program; the program's stdout (its expectation), after checking it ended well."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{argv[0]} exited with {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("decoding", DECODINGS, ids=str)
def test_in_the_harness_trace(
    decoding: Decoding, ptrace_permitted: None, decoding_program: Callable[[str], Path], tmp_path: Path
) -> None:
    """`harness trace` prints, for the program's own process, the lines the program expects, and no other."""
    log = tmp_path / "harness.txt"
    program = decoding_program(decoding.program)

    stdout = _run(
        [PYTHON, "-m", "harness", "trace", "--syscalls", decoding.syscalls, "-o", str(log), "--", str(program)],
        tmp_path,
    )

    expected = stdout.splitlines()
    actual = harness_lines(log.read_text(), decoding.signals)
    assert actual == expected, differs(expected, actual, "harness trace")


def _against_strace_61(decoding: Decoding) -> object:
    if decoding.strace_61_differs is None:
        return decoding
    return pytest.param(decoding, marks=pytest.mark.skip(reason=f"strace 6.1 differs: {decoding.strace_61_differs}"))


@pytest.mark.parametrize("decoding", [_against_strace_61(d) for d in DECODINGS], ids=str)
def test_in_straces_own_log(
    decoding: Decoding,
    ptrace_permitted: None,
    strace: Path,
    decoding_program: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    """The expectations are strace's own: strace prints, on this machine, what each program expects.

    ``-q`` rather than ``-qq``, which would leave out the ``+++ exited with 0
    +++`` line the programs end with; ``-a0``: no padding before `` = ``
    (strace pads to column 40 by default, the harness never pads).
    """
    log = tmp_path / "strace.txt"
    program = decoding_program(decoding.program)
    signals = ",".join(decoding.signals) or "none"
    options = ["-q", "-a0", "-e", f"trace={decoding.syscalls}", "-e", f"signal={signals}", "-o", str(log)]

    stdout = _run([str(strace), *options, "--", str(program)], tmp_path)

    expected = stdout.splitlines()
    actual = strace_lines(log.read_text(), decoding.signals)
    assert actual == expected, differs(expected, actual, "strace")


def _comparable(event: Event) -> dict[str, Any]:
    """A call's name, arguments and result, or a signal's name and siginfo, as strace's default text tells them."""
    if isinstance(event, SignalEvent):
        return {"signal": event.name, "siginfo": dict(event.siginfo)}
    data = {key: value for key, value in event_to_dict(event).items() if key in ("name", "args", "ret", "errno")}
    return {**data, "args": args_as_strace_shows(data["name"], data.get("errno"), data.get("args", {}))}


@pytest.mark.parametrize("decoding", DECODINGS, ids=str)
def test_the_programs_lines_read_as_an_strace_log_are_the_harness_trace(
    decoding: Decoding, ptrace_permitted: None, decoding_program: Callable[[str], Path], tmp_path: Path
) -> None:
    """The strace-log reader and the tracer give one call one value, corner cases included.

    The program's stdout is strace's text of its own calls, with this run's
    pids and addresses (the test above holds strace to it), so read as an
    strace log it must give the events the harness recorded of the same run.
    """
    events = tmp_path / "harness.jsonl"
    program = decoding_program(decoding.program)

    trace = ["trace", "--syscalls", decoding.syscalls, "--jsonl", str(events), "-o", os.devnull]
    stdout = _run([PYTHON, "-m", "harness", *trace, "--", str(program)], tmp_path)
    log = tmp_path / "strace.log"
    log.write_text(stdout)

    traced = read_trace(str(events))
    own = traced.events[0].pid
    shown = [
        event
        for event in traced.events
        if event.pid == own
        and (isinstance(event, SyscallEvent) or (isinstance(event, SignalEvent) and event.name in decoding.signals))
    ]
    read = [event for event in read_trace(str(log)).events if isinstance(event, SyscallEvent | SignalEvent)]
    assert [_comparable(event) for event in read] == [_comparable(event) for event in shown]
