"""Every event carries the time of its stop, and the text trace shows it as strace's -tt, -T and -r do."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import TEST_PROGRAMS
from support.runs import Run

from harness.analysis.checked_trace import CheckedTrace, TraceAssertionError
from harness.analysis.match import check_roles
from harness.analysis.match_context import MatchContext
from harness.model.events import SyscallEvent
from harness.model.expectations import CountCheck, NeverCheck, RoleSelector, Window
from harness.model.scenario import Scenario
from harness.model.steps import parse_step
from harness.model.trace import Trace
from harness.running.serving import run_spec, server_spec

HARNESS = [sys.executable, "-m", "harness"]
#: -T's mark at the end of a call's line.
DURATION = re.compile(r" <(\d+\.\d{6})>$")


def trace_with_times(program: list[str], tmp_path: Path, *options: str) -> tuple[Trace, list[str]]:
    """`harness trace` of PROGRAM with the text options given: its JSON Lines trace and its text lines."""
    jsonl, text = tmp_path / "run.jsonl", tmp_path / "run.txt"
    done = subprocess.run(
        [*HARNESS, "trace", *options, "--jsonl", str(jsonl), "-o", str(text), "--", *program],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return Trace.read_jsonl(jsonl), text.read_text().splitlines()


@pytest.mark.parametrize("program", TEST_PROGRAMS, ids=" ".join)
def test_times_never_go_back_and_durations_are_never_negative(
    ptrace_permitted: None,
    program_argv: Callable[[tuple[str, ...]], list[str]],
    program: tuple[str, ...],
    tmp_path: Path,
) -> None:
    trace, _ = trace_with_times(program_argv(program), tmp_path)
    assert trace
    assert trace[0].start_realtime is not None  # the anchor of wall-clock times
    assert all(event.start_realtime is None for event in trace[1:])
    last: dict[str, float] = {}
    for event in trace:
        assert event.time is not None
        assert event.time >= last.get(event.role, 0.0), f"#{event.seq} {event.role} went back in time"
        last[event.role] = event.time
        if isinstance(event, SyscallEvent):
            assert event.duration is not None and event.duration >= 0
            assert event.time - event.duration >= 0
    times = [event.time or 0.0 for event in trace]
    assert times == sorted(times)  # one clock, in seq order


def test_a_200_ms_sleep_lasts_at_least_150_ms_and_the_wait_for_it_as_long(
    ptrace_permitted: None, c_program: Callable[[str], Path], tmp_path: Path
) -> None:
    trace, _ = trace_with_times(
        [str(c_program("sleep_in_wait"))], tmp_path, "--syscalls", "+nanosleep,clock_nanosleep,wait4"
    )
    sleeps = [e for e in trace if isinstance(e, SyscallEvent) and e.name in ("nanosleep", "clock_nanosleep")]
    waits = [e for e in trace if isinstance(e, SyscallEvent) and e.name == "wait4" and e.role == "main"]
    assert sleeps and waits
    # Lower bounds only: the kernel promises at least the time asked for; a loaded machine may take longer.
    assert sum(e.duration or 0.0 for e in sleeps) >= 0.150
    assert max(e.duration or 0.0 for e in waits) >= 0.150


def test_the_text_durations_are_the_json_durations(
    ptrace_permitted: None, c_program: Callable[[str], Path], tmp_path: Path
) -> None:
    trace, lines = trace_with_times([str(c_program("sigchld_accept")), "norestart"], tmp_path, "-T", "-tt")
    shown = [float(match.group(1)) for line in lines if (match := DURATION.search(line))]
    returned = [e.duration for e in trace if isinstance(e, SyscallEvent) and e.ret is not None]
    assert len(shown) == len(returned) > 0
    assert shown == pytest.approx([d for d in returned if d is not None], abs=1e-6)
    assert sum(shown) == pytest.approx(sum(d for d in returned if d is not None), abs=1e-6 * len(shown))
    # -tt: each line's time of day, HH:MM:SS.uuuuuu, after the task's prefix.
    assert all(
        re.match(r"\[pid \d+ [^\]]+\] \d\d:\d\d:\d\d\.\d{6} ", line) for line in lines if line.startswith("[pid")
    )


def test_a_window_in_time_holds_a_promise_about_how_soon_after_a_step(
    traced: Callable[..., Run], c_program: Callable[[str], Path]
) -> None:
    # main's exit_group comes after its wait4, which blocks at least the child's 200 ms sleep: never within
    # 100 ms of the clone (a lower bound, which load cannot break), and within an hour of it (no real bound).
    ctx = MatchContext(traced([c_program("sleep_in_wait")]).trace, connections=1)
    main = RoleSelector.parse("main")
    soon = Window(after=parse_step("clone"), within=0.100)
    assert check_roles(NeverCheck(parse_step("exit_group"), soon), main, ctx) == []
    assert check_roles(CountCheck(parse_step("exit_group"), "==", 0, soon), main, ctx) == []
    eventually = Window(after=parse_step("clone"), within=3600)
    [broken] = check_roles(NeverCheck(parse_step("exit_group"), eventually), main, ctx)
    assert broken.message == "'exit_group' happened 1 time in main (within 3600 s after 'clone')"


def test_a_python_test_bounds_a_count_in_time_as_a_file_does(ptrace_permitted: None) -> None:
    scenario = Scenario(2)
    run = run_spec(server_spec("fork_sigchld"), scenario)
    assert run.ok, run.summary() + run.server_output
    trace = CheckedTrace(run.trace, connections=scenario.connections)
    trace.expect_count("rt_sigreturn -> EINTR", "==", 1, after="accept4 -> $_conn", within="1000s")
    with pytest.raises(TraceAssertionError, match=r"within 1000 s after 'accept4 -> \$_conn'"):
        trace.never("rt_sigreturn -> EINTR", after="accept4 -> $_conn", within=1000)
    with pytest.raises(ValueError, match="within= counts from the event after= names"):
        trace.never("accept4", within=1)
