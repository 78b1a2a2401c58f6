"""A task killed under the tracer, at any point of its stop, ends in the trace, never in a traceback.

A SIGKILL from outside takes a tracee out of its ptrace stop at once, so the
tracer's next request on it (syscall info, registers, an injection's skip or
signal, the event message, the resumption) fails with ESRCH.  The listener
runs in the middle of each stop's handling, before the task is resumed:
killing a task from there puts the kill exactly in that window, for each
kind of stop.  A second test kills members of a forking, threading program
at points picked by a seeded generator, from the same place.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
from collections.abc import Callable

import pytest

from harness.model.events import Event, ExitEvent, SignalEvent, SpawnEvent, SyscallEntry, SyscallEvent
from harness.model.injection import parse_injection
from harness.running.tracer import Tracer, TraceResult

pytestmark = pytest.mark.ptrace

#: The root forks children one at a time; each child starts threads that make the calls the
#: injections hit (getppid fails with EPERM, sched_yield gets SIGURG, which is ignored by default),
#: then forks a grandchild of its own, and the root reaps it.
PROGRAM = """
import os, threading
def work():
    os.getppid()
    os.sched_yield()
for _ in range({children}):
    pid = os.fork()
    if pid == 0:
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        grandchild = os.fork()
        if grandchild == 0:
            os._exit(0)
        os.waitpid(grandchild, 0)
        os._exit(0)
    os.waitpid(pid, 0)
"""
SYSCALLS = ("clone", "clone3", "getppid", "sched_yield", "wait4", "exit", "exit_group")
INJECTIONS = [parse_injection("getppid:error=EPERM"), parse_injection("sched_yield:signal=SIGURG")]
Point = SyscallEntry | Event


def _trace(
    children: int, kill: Callable[[Point], int | None], *, use_syscall_info: bool | None = None, seccomp: bool = False
) -> TraceResult:
    """Trace the program; ``kill`` names a tid to SIGKILL at a point of the run (None: nothing)."""
    root_pid: list[int] = []

    def listener(point: Point) -> None:
        if not root_pid:
            root_pid.append(point.pid)
        tid = kill(point) if point.pid != root_pid[0] else None  # the root lives, so the run ends by itself
        if tid is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone: killed with its process
                os.kill(tid, signal.SIGKILL)

    tracer = Tracer(
        [sys.executable, "-c", PROGRAM.format(children=children)],
        syscalls=SYSCALLS,
        listener=listener,
        injections=INJECTIONS,
        use_syscall_info=use_syscall_info,
        seccomp=seccomp,
    )
    return tracer.run()


def _assert_every_task_ended(result: TraceResult) -> None:
    spawned = {event.child_tid for event in result.trace if isinstance(event, SpawnEvent)}
    ended = {event.tid for event in result.trace if isinstance(event, ExitEvent)}
    assert spawned <= ended
    assert result.exit_code == 0


KINDS: dict[str, Callable[[Point], bool]] = {
    "at an injected call's entry (before its skip)": lambda p: isinstance(p, SyscallEntry) and p.name == "getppid",
    "at a signalled call's entry (before the tgkill)": lambda p: (
        isinstance(p, SyscallEntry) and p.name == "sched_yield"
    ),
    "at an injected call's exit": lambda p: isinstance(p, SyscallEvent) and p.injected,
    "at a fork event (before the creator's resumption)": lambda p: isinstance(p, SpawnEvent) and not p.thread,
    "at a thread's creation": lambda p: isinstance(p, SpawnEvent) and p.thread,
    "at a signal-delivery stop": lambda p: isinstance(p, SignalEvent),
}


@pytest.mark.parametrize("syscall_info", [True, False], ids=["syscall-info", "registers"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_task_killed_inside_its_stop_ends_with_sigkill_in_the_trace(
    kind: str, syscall_info: bool, ptrace_permitted: None
) -> None:
    killed: list[int] = []

    def kill(point: Point) -> int | None:
        if not killed and KINDS[kind](point):
            killed.append(point.tid)
            return point.tid
        return None

    result = _trace(2, kill, use_syscall_info=syscall_info)
    assert killed, f"the program never reached a point {kind}"
    (victim,) = killed
    pid = next(event.pid for event in result.trace if event.tid == victim)
    exits = [event for event in result.trace if isinstance(event, ExitEvent) and event.pid == pid]
    assert any(event.signal == "SIGKILL" for event in exits)
    assert victim in {event.tid for event in exits}
    _assert_every_task_ended(result)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("seccomp", [False, True], ids=["stepped", "seccomp"])
def test_random_sigkills_in_a_forking_threading_program_never_break_the_tracer(
    seed: int, seccomp: bool, ptrace_permitted: None
) -> None:
    """Any member, at any stop: the one stopped or another one, which may be running or in a stop not yet seen."""
    chooser = random.Random(seed)
    members: list[int] = []
    kills = 0

    def kill(point: Point) -> int | None:
        nonlocal kills
        if isinstance(point, SpawnEvent):
            members.append(point.child_tid)
        if chooser.random() < 0.04:
            kills += 1
            return point.tid if chooser.random() < 0.5 or not members else chooser.choice(members)
        return None

    result = _trace(12, kill, seccomp=seccomp)
    assert kills > 0
    _assert_every_task_ended(result)
