"""``--python-frames``: each recorded event of a Python program names the line of Python code that made it.

tests/integration/programs/known_lines.py makes its calls from lines marked
``# line: NAME``; each test compares the frames the tracer read from the
stopped tracee's memory with those lines, for every CPython on this machine
the reader supports (3.11 on a libpython and as a fixed-address executable,
3.12, 3.13).  An interpreter this machine lacks is skipped, the suite's own
never is.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.programs import PROGRAMS
from support.pythons import interpreter

from harness.faces.cli import main
from harness.model.events import Event, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.frames import Frame, user_frame
from harness.model.trace import Trace
from harness.running.sources import read_trace
from harness.running.tracer import Tracer

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

PROGRAM = PROGRAMS / "known_lines.py"
#: Line numbers by the NAME of their ``# line: NAME`` mark.
LINES = {
    found.group(1): number
    for number, text in enumerate(PROGRAM.read_text().splitlines(), 1)
    if (found := re.search(r"# line: (\w+)$", text))
}


def at(name: str, function: str) -> Frame:
    """The frame of the program's line ``name``, in ``function``."""
    return Frame(file=str(PROGRAM), line=LINES[name], function=function)


@dataclass(frozen=True)
class Traced:
    trace: Trace
    notes: list[str]
    stdout: str


def trace_with_frames(argv: list[str]) -> Traced:
    notes: list[str] = []
    with tempfile.TemporaryFile() as out:
        result = Tracer(argv, python_frames=True, note=notes.append, stdio=(None, out.fileno(), None)).run()
        out.seek(0)
        return Traced(result.trace, notes, out.read().decode())


@pytest.fixture(scope="module", params=["3.11-libpython", "3.11-executable", "3.12", "3.13"])
def known(request: pytest.FixtureRequest, ptrace_permitted: None) -> Traced:
    python = interpreter(request.param)
    if python is None:
        pytest.skip(f"no CPython {request.param} on this machine")
    traced = trace_with_frames([python, "-I", "-S", str(PROGRAM)])
    assert traced.stdout == "done\n"
    return traced


def calls(trace: Trace, name: str, role: str = "main") -> list[SyscallEvent]:
    return [e for e in trace if isinstance(e, SyscallEvent) and e.name == name and e.role == role]


def frames_of(events: Iterator[Event] | list[SyscallEvent]) -> list[Frame | None]:
    return [user_frame(e.python or ()) for e in events if isinstance(e, SyscallEvent | SignalEvent | SpawnEvent)]


def test_a_blocking_accept_names_the_function_it_blocks_in(known: Traced) -> None:
    served = [e for e in calls(known.trace, "accept4") if e.python and e.python[0].function == "accept"]
    assert [e.errno for e in served] == ["ERESTARTSYS", None]  # interrupted, then retried by CPython
    for event in served:
        assert event.python is not None
        assert user_frame(event.python) == at("serve", "serve")
        assert event.python[0].file.endswith("/socket.py") and event.python[0].in_stdlib


def test_the_signal_handler_that_reaps_is_named_with_its_line(known: Traced) -> None:
    reaps = [e for e in calls(known.trace, "wait4") if e.args.get("options") == ["WNOHANG"]]
    assert reaps and all(e.python and e.python[0] == at("reap", "reap") for e in reaps)
    # The handler ran on top of the interrupted accept: its stack goes on with serve's frames.
    first = reaps[0]
    assert first.python is not None and at("serve", "serve") in first.python
    delivered = next(e for e in known.trace if isinstance(e, SignalEvent) and e.syscall == "accept4")
    assert delivered.python is not None and user_frame(delivered.python) == at("serve", "serve")


def test_a_retry_loop_of_the_programs_own_is_its_own_line(known: Traced) -> None:
    own = [e for e in calls(known.trace, "accept4") if e.python and e.python[0] == at("own", "accept_own_loop")]
    assert [e.errno for e in own] == ["ERESTARTSYS", None]
    assert all(e.python and not e.python[0].in_stdlib for e in own)


def test_each_thread_has_its_own_stack(known: Traced) -> None:
    (in_thread,) = calls(known.trace, "close", role="main/t1")
    assert in_thread.python is not None and in_thread.python[0] == at("thread", "in_thread")
    assert at("main", "main") not in in_thread.python  # the main thread's frames are not the thread's
    assert at("main", "main") in frames_of(calls(known.trace, "close"))


def test_a_fork_child_continues_from_the_fork(known: Traced) -> None:
    spawn = next(e for e in known.trace if isinstance(e, SpawnEvent) and e.child_role == "main.1")
    assert spawn.python is not None and user_frame(spawn.python) == at("fork", "main")
    (closed,) = calls(known.trace, "close", role="main.1")
    assert closed.python is not None
    # The child's stack is the parent's at the fork, gone on from there: main's next line, then child_work.
    assert closed.python == (at("child", "child_work"), at("in_child", "main"), *spawn.python[1:])


def test_a_program_whose_every_task_runs_python_gets_no_note(known: Traced) -> None:
    assert known.notes == []


def test_a_c_program_gets_no_frames_and_no_note(c_program: Callable[[str], Path]) -> None:
    traced = trace_with_frames([str(c_program("thread_fork"))])
    assert len(traced.trace) > 0
    assert all(getattr(event, "python", None) is None for event in traced.trace)
    assert traced.notes == []


def test_an_unsupported_python_gets_no_frames_and_one_note() -> None:
    python = interpreter("3.10")
    if python is None:
        pytest.skip("no CPython 3.10 on this machine")
    traced = trace_with_frames([python, "-I", "-S", "-c", "import os; os.close(os.dup(0)); os.close(os.dup(0))"])
    assert len(calls(traced.trace, "close")) >= 2
    assert all(getattr(event, "python", None) is None for event in traced.trace)
    (note,) = traced.notes
    assert "older than 3.11" in note and "3.11 to 3.13" in note


def test_the_command_line_prints_the_calling_line_and_writes_the_frames(
    ptrace_permitted: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl, text = tmp_path / "run.jsonl", tmp_path / "run.txt"
    argv = ["--jsonl", str(jsonl), "-o", str(text), "--python-frames", "--", sys.executable, "-I", "-S", str(PROGRAM)]
    assert main(["trace", *argv]) == 0
    thread = f"close(3) = 0 <- known_lines.py:{LINES['thread']} in in_thread"
    assert any(line.endswith(thread) for line in text.read_text().splitlines())
    (event,) = [
        e for e in read_trace(str(jsonl)) if isinstance(e, SyscallEvent) and e.role == "main/t1" and e.name == "close"
    ]
    assert event.python is not None and event.python[0] == at("thread", "in_thread")
    capsys.readouterr()
    assert main(["show", "-v", str(jsonl)]) == 0
    assert f"    at {PROGRAM}:{LINES['thread']} in in_thread" in capsys.readouterr().out.splitlines()


def test_a_subprocess_is_spawned_from_its_python_line_and_its_exec_brings_no_note(
    c_program: Callable[[str], Path],
) -> None:
    program = f"import subprocess\nsubprocess.run([{str(c_program('thread_fork'))!r}], check=True)\n"
    traced = trace_with_frames([sys.executable, "-I", "-S", "-c", program])
    spawn = next(e for e in traced.trace if isinstance(e, SpawnEvent) and e.child_role == "main.1")
    assert spawn.python is not None and spawn.python[-1] == Frame(file="<string>", line=2, function="<module>")
    assert spawn.python[0].file.endswith("/subprocess.py")
    assert traced.notes == []  # the child ran C code only before its exec: no news
