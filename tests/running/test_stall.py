"""Which blocked calls can end by themselves, read from /proc of real blocked processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness.running.stall import Stall, StallWatch, _blocked_call

#: Each program says "ready" and then blocks in the call named.
PROGRAMS = {
    "sleep": "import time; print('ready', flush=True); time.sleep(600)",
    "read": "import os; r, w = os.pipe(); print('ready', flush=True); os.read(r, 1)",
    "poll for ever": "import select; p = select.poll(); print('ready', flush=True); p.poll()",
    "poll with a timeout": "import select; p = select.poll(); print('ready', flush=True); p.poll(600_000)",
    "select with a timeout": "import select; print('ready', flush=True); select.select([], [], [], 600)",
}


@contextmanager
def blocked(code: str) -> Iterator[int]:
    """A child process blocked in its call: its pid, once /proc says it sleeps."""
    child = subprocess.Popen([sys.executable, "-I", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        while _blocked_call(child.pid) is None:  # it printed, then entered the call: wait for the kernel to say so
            pass
        yield child.pid
    finally:
        child.kill()
        child.communicate()


@pytest.mark.parametrize(
    ("program", "call", "wakes_by_itself"),
    [
        ("sleep", "clock_nanosleep", True),
        ("read", "read", False),
        ("poll for ever", "poll", False),
        ("poll with a timeout", "poll", True),
        ("select with a timeout", "pselect6", True),  # glibc implements select() with pselect6
    ],
)
def test_a_blocked_call_is_named_and_known_to_end_by_itself_or_not(
    program: str, call: str, wakes_by_itself: bool
) -> None:
    with blocked(PROGRAMS[program]) as pid:
        assert _blocked_call(pid) == (call, wakes_by_itself)


def test_a_running_or_vanished_task_is_not_blocked() -> None:
    assert _blocked_call(2**22 + 1) is None  # above pid_max's default: no such task


def test_a_run_still_since_before_it_stalled_is_called_stalled() -> None:
    """The last event came while a client was still busy; then the client waits and nothing happens.

    No event marks the moment the run stalls, so the quiet must start at the
    first sample that sees the stall.  (Before, it started only at an event:
    such a run waited for its time limit, 1 in 30 runs of the deterministic
    test with a parent reading its held child's output, on a loaded machine.)
    """
    samples = iter([None])  # the first sample: a client is busy; every later one: the clients wait
    stalled: list[Stall] = []
    fired = threading.Event()

    def on_stall(stall: Stall) -> None:
        stalled.append(stall)
        fired.set()

    watch = StallWatch()
    watch.configure(
        tasks=lambda: {1},
        held=lambda: {1},  # init, "held": a task that stays as it is
        clients=lambda: next(samples, "waiting"),
        on_stall=on_stall,
    )
    watch.start()
    try:
        assert fired.wait(timeout=60), "the stall was never called"  # a fence against a hang, not an order
    finally:
        watch.stop()
    assert [state.held for state in stalled[0].tasks] == [True]
