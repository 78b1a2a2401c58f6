"""``--strace-log`` writes strace's own ``-f -o`` text, and that text read back is the run's trace.

The round trip: a run's JSON Lines and its ``--strace-log`` are written by
the same run; the log read back (as any strace log is) gives the same events,
so the same verdicts.  What strace's text has no place for is named and left out:

* the descriptors a process holds after an exec (``ExecEvent.fds``);
* the pointer of a failed accept's length, where strace shows the length the
  caller gave (``[16]``) and the tracer keeps the pointer;
* Python frames, the time of day the run began (the log's times are
  counted from its first line), and the moment of a spawn (strace prints no
  line for it: it takes its creating call's end);
* the call a signal came in, unless it is the task's last traced call and
  returned a restart code (the tracer reads the call from the registers; a
  log shows only that the signal's line follows a call's, which it may
  follow by any stretch of the program's own code);
* the end of a call that never returned (strace prints its line at the
  entry, without a ``-T`` time).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.programs import EXPECTATIONS
from support.strace_text import NOT_IN_STRACE_TEXT, args_as_strace_shows

from harness.faces.cli import main
from harness.model import kernel
from harness.model.events import Event, SignalEvent, SpawnEvent, SyscallEvent, event_to_dict
from harness.model.sweep import SweepCheck
from harness.model.trace import Trace
from harness.running.check import check_files_on_trace
from harness.running.sources import read_trace


def _comparable(event: Event, recorded: Trace | None = None) -> dict[str, Any]:
    data = {key: value for key, value in event_to_dict(event).items() if key not in NOT_IN_STRACE_TEXT}
    if isinstance(event, SignalEvent) and recorded is not None and not _follows_its_call(event, recorded):
        data.pop("syscall", None)  # interrupted in a call the trace does not hold: no line of it to read
        data.pop("syscall_errno", None)
    if "args" in data:
        data["args"] = args_as_strace_shows(data.get("name"), data.get("errno"), data["args"])
    return data


def _follows_its_call(signal: SignalEvent, trace: Trace) -> bool:
    """Whether the task's event before the signal is the traced call it names, returning its restart code."""
    before = [event for event in trace.for_role(signal.role) if event.seq < signal.seq]
    last = before[-1] if before else None
    return (
        isinstance(last, SyscallEvent)
        and kernel.is_restart_code(last.errno)
        and (last.name, last.errno) == (signal.syscall, signal.syscall_errno)
    )


def _same_trace(logged: Trace, recorded: Trace) -> None:
    assert [_comparable(event) for event in logged] == [_comparable(event, recorded) for event in recorded]
    first = recorded[0].time
    assert first is not None
    for ours, theirs in zip(logged, recorded, strict=True):  # -ttt and -T carry times to the microsecond
        if isinstance(theirs, SpawnEvent) or (isinstance(theirs, SyscallEvent) and theirs.ret is None):
            continue
        assert ours.time is not None and theirs.time is not None
        assert abs(ours.time - (theirs.time - first)) <= 2e-6
        if isinstance(theirs, SyscallEvent) and isinstance(ours, SyscallEvent) and theirs.duration is not None:
            assert ours.duration is not None and abs(ours.duration - theirs.duration) <= 2e-6


@pytest.mark.parametrize("name", ["fork_sigchld", "fork_sigchld_restart", "fork_threads", "c_echo_server"])
def test_a_runs_strace_log_gives_its_verdicts(name: str, ptrace_permitted: None, tmp_path: Path) -> None:
    expectation = EXPECTATIONS / f"{name}.expect.yaml"
    log, jsonl = tmp_path / "run.strace", tmp_path / "run.jsonl"
    status = main(
        ["run", str(expectation), "--strace-log", str(log), "--jsonl", str(jsonl), "-o", "/dev/null", "-ttt", "-T"]
    )
    assert status == 0

    logged, recorded = read_trace(str(log)), Trace.read_jsonl(jsonl)

    _same_trace(logged, recorded)
    (on_log,) = check_files_on_trace([expectation], log, logged)
    (on_jsonl,) = check_files_on_trace([expectation], jsonl, recorded)
    assert [result.passed for result in on_log.results] == [result.passed for result in on_jsonl.results]  # type: ignore[union-attr]
    swept = [isinstance(result.assertion.check, SweepCheck) for result in on_log.results]  # type: ignore[union-attr]
    assert all(result.passed or sweep for result, sweep in zip(on_log.results, swept, strict=True))  # type: ignore[union-attr]  # a sweep runs the server


def test_a_traced_commands_strace_log_is_strace_s_text(
    c_program: Callable[[str], Path], ptrace_permitted: None, tmp_path: Path
) -> None:
    """``harness trace --strace-log``: every line in strace's -f -o form, leading with the task's id."""
    log, jsonl = tmp_path / "lessons.strace", tmp_path / "lessons.jsonl"
    program = c_program("strace_lessons")
    status = main(
        ["trace", "--strace-log", str(log), "--jsonl", str(jsonl), "-o", "/dev/null", "-ttt", "-T", "--", str(program)]
    )
    assert status == 3

    recorded = Trace.read_jsonl(jsonl)
    lines = log.read_text().splitlines()
    assert lines[0].startswith(f"{recorded[0].tid:<5} ") and "execve(" in lines[0]
    assert not any("spawned" in line or "[pid" in line for line in lines)
    _same_trace(read_trace(str(log)), recorded)
