"""The end of a run collects every tracee, also one whose creator died before its fork event was handled.

The situation is built step by step with ptrace, in the order the kernel
gives when a run is killed at the wrong moment: the creator stops at its
PTRACE_EVENT_FORK, is killed there before the tracer reads that stop, and its
exit is all the tracer ever hears of it.  The child is traced (auto-attached)
and unknown to the tracer.  This test process is the child subreaper, so the
child, orphaned, is re-parented to it: a child that outlived the reap would be
found among its children.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest
from ptrace import binding
from support.processes import our_children

from harness.running.tracer.ending import WALL, reap
from harness.running.tracer.loop import _OPTIONS
from harness.running.tracer.own_thread import call_in_own_thread
from harness.running.tracer.spawn import start_stopped
from harness.running.tracer.task import TaskHandle

_FORK_EVENTS = (binding.PTRACE_EVENT_FORK, binding.PTRACE_EVENT_VFORK, binding.PTRACE_EVENT_CLONE)

pytestmark = pytest.mark.ptrace

#: Forks one child, which would sleep for a minute, then waits for it.
FORKER = "import os, time\nif os.fork() == 0:\n    time.sleep(60)\n    os._exit(0)\nos.wait()\n"


def _creator_killed_in_its_fork_event() -> None:
    """In the tracer's place: kill the creator in its fork event stop, then end the run as the tracer does."""
    creator, error_pipe = start_stopped([sys.executable, "-c", FORKER], os.environ)
    os.close(error_pipe)
    handle = TaskHandle(creator, creator)
    _, status = os.waitpid(creator, WALL)  # its first SIGSTOP
    assert os.WIFSTOPPED(status)
    handle.set_options(_OPTIONS)
    signum = 0
    while True:  # past the exec event (and any signal, passed on) to the fork's event
        handle.resume(signum, to_next_syscall=False)
        _, status = os.waitpid(creator, WALL)
        assert os.WIFSTOPPED(status), hex(status)
        if status >> 16 in _FORK_EVENTS:
            break
        signum = 0 if status >> 16 else os.WSTOPSIG(status)
    os.kill(creator, signal.SIGKILL)  # killed in that stop: the event is never handled
    _, status = os.waitpid(creator, WALL)
    assert os.WIFSIGNALED(status)
    reap({creator})


def test_a_tracee_whose_fork_event_was_never_handled_is_killed_and_collected(
    adopting: None, ptrace_permitted: None
) -> None:
    call_in_own_thread(_creator_killed_in_its_fork_event, lambda: None)
    assert our_children() == []
