"""strace -f logs written with every option the reader knows are read into the events the tracer records.

The corpus is made here, by running strace on one test program
(``programs/strace_lessons.c``) that tells every lesson in one run: an
accept a SIGCHLD interrupts (ERESTARTSYS, then EINTR), a pause
(ERESTARTNOHAND), a poll that goes on through restart_syscall
(ERESTART_RESTARTBLOCK), a thread, a child killed by SIGTERM.  Each log,
whatever strace's options, reads without a message and tells the same story.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from harness.faces.cli import main
from harness.model.events import ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.trace import Trace
from harness.running.sources import read_trace, source_kind

#: The calls the program's lessons are told with; the rest of its calls vary with the C library.
_LESSON_CALLS = "process,accept,pause,poll,restart_syscall,rt_sigaction,rt_sigreturn,wait4,kill,close,listen"

#: strace's options, one log each: times, durations, stacks, descriptor paths, seccomp, signals, notations.
OPTIONS: list[tuple[str, ...]] = [
    (),
    ("-t",),
    ("-tt",),
    ("-ttt",),
    ("-r",),
    ("-T",),
    ("-tt", "-r"),
    ("-k",),
    ("-y",),
    ("-yy",),
    ("-X", "raw"),
    ("-X", "verbose"),
    ("-X", "abbrev"),
    ("--seccomp-bpf", "-e", f"trace={_LESSON_CALLS}"),
    ("-e", "signal=none"),
    ("-e", "signal=SIGCHLD"),
    ("-i",),
    ("-n",),
    ("-v",),
    ("-s", "0"),
    ("-ttt", "-T", "-y", "-X", "verbose"),
    ("-e", f"trace={_LESSON_CALLS}"),
]

#: main's story, in order, as Trace.outline() tokens (other calls may come between them).
_MAIN_STORY = [
    "spawn main.1",
    "accept -> ERESTARTSYS",
    "--- SIGCHLD",
    "rt_sigreturn -> EINTR",
    "wait4",
    "spawn main.2",
    "pause -> ERESTARTNOHAND",
    "--- SIGCHLD",
    "rt_sigreturn -> EINTR",
    "wait4",
    "spawn main.3",
    "spawn main.4",
    "poll -> ERESTART_RESTARTBLOCK",
    "--- SIGCHLD",
    "restart_syscall",
    "spawn main/t1",
    "spawn main.5",
    "kill",
    "wait4",
    "+++ exited 3",
]


@pytest.fixture
def lessons(c_program: Callable[[str], Path], ptrace_permitted: None) -> Path:
    """The lessons program, where tracing is permitted (strace needs ptrace as the harness does)."""
    return c_program("strace_lessons")


def _in_order(story: Sequence[str], expected: Sequence[str]) -> bool:
    remaining = iter(story)
    return all(any(token == wanted for token in remaining) for wanted in expected)


def assert_the_lessons(trace: Trace, *, signals: bool = True, kills: bool = True) -> None:
    """The program's story, as the tracer would have recorded it.

    ``signals``: the log shows SIGCHLD; ``kills``: it shows how SIGTERM killed
    a task (``-e signal=SET`` leaves out both for the signals not in SET).
    """
    assert set(trace.roles()) == {"main", "main.1", "main.2", "main.3", "main.4", "main.5", "main/t1"}
    story = trace.outline()["main"]
    expected = _MAIN_STORY if signals else [token for token in _MAIN_STORY if not token.startswith("---")]
    assert _in_order(story, expected), story
    exits = {role: trace.exit_of(role) for role in trace.roles()}
    ends: dict[str, tuple[int | None, str | None]] = {
        "main": (3, None),
        "main.1": (0, None),
        "main.2": (1, None),
        "main.3": (0, None),
        "main.4": (0, None),
    }
    ends |= {"main.5": (None, "SIGTERM")} if kills else {}
    assert {role: (end.code, end.signal) for role, end in exits.items() if end is not None} == {
        **ends,
        "main/t1": (0, None),
    }
    main = trace.for_role("main")
    thread = next(event for event in main if isinstance(event, SpawnEvent) and event.thread)
    assert (thread.child_role, thread.child_pid) == ("main/t1", main[0].pid)
    resumed = next(event for event in main if isinstance(event, SyscallEvent) and event.name == "restart_syscall")
    assert resumed.args == {"resuming": "poll"} and resumed.ret == 1
    interrupted = [event for event in main if isinstance(event, SignalEvent)]
    if signals:
        assert [(event.syscall, event.syscall_errno) for event in interrupted[:3]] == [
            ("accept", "ERESTARTSYS"),
            ("pause", "ERESTARTNOHAND"),
            ("poll", "ERESTART_RESTARTBLOCK"),
        ]
        assert interrupted[0].siginfo["si_code"] == "CLD_EXITED"
        assert trace.role_of_pid(interrupted[0].siginfo["si_pid"]) == "main.1"
    else:
        assert interrupted == []
    killed = next(event for event in main if isinstance(event, SyscallEvent) and event.name == "kill")
    assert killed.args["signal"] == "SIGTERM" and trace.role_of_pid(killed.args["pid"]) == "main.5"


@pytest.mark.parametrize("options", OPTIONS, ids=lambda options: " ".join(options) or "plain")
def test_a_log_of_each_option_tells_the_lessons(
    options: tuple[str, ...], lessons: Path, strace: Path, tmp_path: Path
) -> None:
    log = tmp_path / "lessons.log"
    done = subprocess.run([str(strace), "-f", *options, "-o", str(log), str(lessons)], capture_output=True)
    assert done.returncode == 3, done.stderr

    assert source_kind(str(log)) == "trace"
    trace = read_trace(str(log))

    assert_the_lessons(
        trace, signals="signal=none" not in options, kills=not any(option.startswith("signal=") for option in options)
    )
    calls = [event for event in trace if isinstance(event, SyscallEvent) and event.ret is not None]
    if "-T" in options:
        assert all(event.duration is not None for event in calls)
    if {"-t", "-tt", "-ttt", "-r"} & set(options):
        assert all(event.time is not None for event in trace)
        assert [event.time for event in trace if event.time is not None] == sorted(
            event.time for event in trace if event.time is not None
        ) or "-T" in options  # a whole line's time is its call's end: -T moves it past later entries
    if "-ttt" in options:
        assert trace[0].start_realtime is not None


def test_a_log_on_stderr_names_the_only_task_without_a_pid(lessons: Path, strace: Path, tmp_path: Path) -> None:
    """On stderr, strace prints no pid while one task runs, and its "Process N attached" cuts a line in two."""
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        done = subprocess.run([str(strace), "-f", str(lessons)], stderr=stderr)
    assert done.returncode == 3
    assert "attached" in log.read_text()

    trace = read_trace(str(log))

    assert_the_lessons(trace)
    first_line = trace.for_role("main")[0]  # printed before any fork, without a pid: the pid its later lines show
    assert first_line.pid == first_line.tid == trace.for_role("main")[-1].pid > 0


@pytest.mark.parametrize("times", [(), ("-ttt",)], ids=["causal order", "by time"])
@pytest.mark.parametrize("named_by", ["prefix", "directory"])
def test_the_files_of_strace_ff_are_one_log(
    times: tuple[str, ...], named_by: str, lessons: Path, strace: Path, tmp_path: Path
) -> None:
    """``-ff -o LOG`` writes LOG.PID per task: the reader takes the prefix LOG, or the directory of the files."""
    directory = tmp_path / "logs"
    directory.mkdir()
    done = subprocess.run([str(strace), "-ff", *times, "-o", str(directory / "lessons"), str(lessons)])
    assert done.returncode == 3
    assert len(list(directory.iterdir())) == 7

    source = str(directory / "lessons") if named_by == "prefix" else str(directory)
    assert source_kind(source) == "trace"
    trace = read_trace(source)

    assert_the_lessons(trace)
    ends = [event for event in trace if isinstance(event, ExitEvent)]
    assert ends[-1].role == "main"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ((), "is an strace log without times (strace ran without -t, -tt, -ttt or -r); -t and -r show nothing"),
        (("-tt",), "is an strace log whose times are times of day without a date (strace -t or -tt; -ttt keeps it)"),
        (("-ttt",), None),
    ],
    ids=["plain", "-tt", "-ttt"],
)
def test_show_says_which_of_straces_options_a_log_lacks_for_its_time_columns(
    options: tuple[str, ...],
    says: str | None,
    lessons: Path,
    strace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "lessons.log"
    assert subprocess.run([str(strace), "-f", *options, "-o", str(log), str(lessons)]).returncode == 3

    assert main(["show", "-tt", str(log)]) == 0

    err = capsys.readouterr().err
    assert (says in err) if says is not None else err == ""
