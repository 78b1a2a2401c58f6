"""Creation, exit and reaping of processes and threads, as the tracer records them."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from support.runs import Run

from harness.model.events import ExitEvent, SignalEvent, SpawnEvent, SyscallEvent


def _alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if os.path.exists(f"/proc/{pid}")}


def test_child_killed_by_a_signal_is_reaped_with_that_signal(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("killed_child")])

    assert run.trace.outline()["main.1"] == ["--- SIGTERM", "+++ killed SIGTERM"]
    child = next(e for e in run.trace if isinstance(e, SpawnEvent))
    wait = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "wait4")
    assert wait.ret == child.child_pid
    assert wait.args["status"] == {"signaled": "SIGTERM", "core_dumped": False}
    sigterm = next(e for e in run.trace.for_role("main.1") if isinstance(e, SignalEvent))
    assert sigterm.siginfo["si_code"] == "SI_USER" and sigterm.siginfo["si_pid"] == child.pid
    sigchld = next(e for e in run.trace.for_role("main") if isinstance(e, SignalEvent))
    assert sigchld.siginfo["si_code"] == "CLD_KILLED" and sigchld.siginfo["si_status"] == "SIGTERM"
    assert run.result.exit_code == 0


def test_double_fork_grandchild_outlives_its_parent_and_is_followed(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("double_fork")])

    spawns = [e for e in run.trace if isinstance(e, SpawnEvent)]
    assert [(e.role, e.child_role, e.thread) for e in spawns] == [
        ("main", "main.1", False),
        ("main.1", "main.1.1", False),
    ]
    middle_exit = run.trace.exit_of("main.1")
    grandchild_exit = run.trace.exit_of("main.1.1")
    assert middle_exit is not None and middle_exit.code == 0
    assert grandchild_exit is not None and grandchild_exit.code == 3
    assert grandchild_exit.seq > middle_exit.seq
    reap = next(e for e in run.trace.for_role("main") if isinstance(e, SyscallEvent) and e.name == "wait4")
    assert reap.ret == spawns[0].child_pid
    assert _alive({e.child_pid for e in spawns}) == set()


def test_thread_that_forks_is_a_clone_thread_whose_child_belongs_to_the_process(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("thread_fork")])

    thread, child = (e for e in run.trace if isinstance(e, SpawnEvent))
    assert (thread.role, thread.child_role, thread.thread, thread.via) == ("main", "main/t1", True, "clone3")
    assert thread.child_pid == thread.pid != thread.child_tid
    clone3 = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "clone3")
    assert "CLONE_THREAD" in clone3.args["flags"] and clone3.ret == thread.child_tid
    assert (child.role, child.child_role, child.thread) == ("main/t1", "main.1", False)
    assert child.tid == thread.child_tid
    wait = next(e for e in run.trace.for_role("main/t1") if isinstance(e, SyscallEvent) and e.name == "wait4")
    assert wait.args["status"] == {"exited": 7}
    assert run.trace.outline()["main/t1"][-2:] == ["exit", "+++ exited 0"]
    assert run.result.exit_code == 0


@pytest.mark.parametrize(
    ("script", "code", "signal", "shell_status"),
    [("exit 5", 5, None, 5), ("kill -TERM $$", None, "SIGTERM", 128 + 15)],
)
def test_exit_status_is_the_traced_commands(
    traced: Callable[..., Run], script: str, code: int | None, signal: str | None, shell_status: int
) -> None:
    run = traced(["sh", "-c", script])

    assert (run.result.exit_code, run.result.exit_signal, run.result.shell_status) == (code, signal, shell_status)
    last = run.trace[-1]
    assert isinstance(last, ExitEvent) and last.role == "main" and last.signal == signal


def test_exit_group_is_written_although_it_never_returns(traced: Callable[..., Run]) -> None:
    run = traced(["sh", "-c", "exit 4"])

    exit_group = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "exit_group")
    assert (exit_group.args, exit_group.ret, exit_group.errno) == ({"status": 4}, None, None)


def test_fallback_without_syscall_info_records_the_same_story(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    program = c_program("sigchld_accept")
    for mode in ("norestart", "restart", "ign"):
        with_info = traced([program, mode], use_syscall_info=True)
        without = traced([program, mode], use_syscall_info=False)
        assert without.trace.outline() == with_info.trace.outline(), mode
