"""A thread other than the leader calls execve: the process goes on under its own role, as strace -f shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.runs import Run

from harness.model.events import ExecEvent, ExitEvent, SpawnEvent, SyscallEvent
from harness.model.strace_format import render_trace
from harness.model.trace import Trace, event_to_json

#: How the tracer stops at calls: every call, every call without PTRACE_GET_SYSCALL_INFO, the seccomp prefilter.
MODES = [
    pytest.param({}, id="every-call"),
    pytest.param({"use_syscall_info": False}, id="registers"),
    pytest.param({"seccomp": True}, id="seccomp"),
]


def _exec_by_thread(run: Run) -> tuple[SpawnEvent, ExecEvent]:
    thread = next(event for event in run.trace if isinstance(event, SpawnEvent) and event.thread)
    execs = [event for event in run.trace if isinstance(event, ExecEvent)]
    assert len(execs) == 2, execs  # the command's own, then the thread's
    return thread, execs[1]


@pytest.mark.parametrize("mode", MODES)
def test_the_leader_blocked_in_accept_is_superseded_and_main_goes_on(
    traced: Callable[..., Run], c_program: Callable[[str], Path], mode: dict[str, bool]
) -> None:
    run = traced([c_program("thread_execs"), "accept"], **mode)

    thread, exec_event = _exec_by_thread(run)
    assert (exec_event.role, exec_event.tid, exec_event.pid) == ("main", thread.pid, thread.pid)
    assert exec_event.former_tid == thread.child_tid  # None, and the role main/t1, before
    accept = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "accept")
    assert (accept.role, accept.ret) == ("main", None)  # the leader's call never returns
    assert accept.seq < exec_event.seq
    after = run.trace[run.trace.events.index(exec_event) + 1 :]
    assert {event.role for event in after} == {"main"}
    marker = next(e for e in after if isinstance(e, SyscallEvent) and e.name == "close" and e.args["fd"] == 99)
    assert marker.errno == "EBADF"  # the new program ran, as main
    assert run.trace.exit_of("main") == after[-1] and isinstance(after[-1], ExitEvent) and after[-1].code == 0
    assert run.trace.exit_of("main/t1") is None  # its id went on as the leader's: no exit of its own
    assert run.result.exit_code == 0


@pytest.mark.parametrize("mode", MODES)
def test_an_exec_after_the_leader_ended_its_thread_goes_on_as_main(
    traced: Callable[..., Run], c_program: Callable[[str], Path], mode: dict[str, bool]
) -> None:
    run = traced([c_program("thread_execs"), "leader-gone"], **mode)

    thread, exec_event = _exec_by_thread(run)
    assert (exec_event.role, exec_event.former_tid) == ("main", thread.child_tid)
    assert thread.via == "clone3"
    after = run.trace[run.trace.events.index(exec_event) + 1 :]
    assert {event.role for event in after} == {"main"} and isinstance(after[-1], ExitEvent)
    assert run.result.exit_code == 0


def test_the_text_says_superseded_as_strace_does_and_the_jsonl_keeps_the_former_thread(
    traced: Callable[..., Run], c_program: Callable[[str], Path]
) -> None:
    run = traced([c_program("thread_execs"), "accept"])

    thread, _ = _exec_by_thread(run)
    lines = render_trace(run.trace)
    at = lines.index(f"[pid {thread.pid} main] +++ superseded by execve in pid {thread.child_tid} +++")
    assert lines[at + 1].startswith(f'[pid {thread.pid} main] +++ exec "')
    reread = Trace.from_lines(event_to_json(event) for event in run.trace)
    assert reread == run.trace
