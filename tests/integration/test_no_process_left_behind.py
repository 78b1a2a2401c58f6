"""Kill the harness at random points of a run: nothing of the run's process tree may survive.

SIGINT and SIGTERM make the harness kill the traced tree and reap it itself;
SIGKILL gives it no chance, so PTRACE_O_EXITKILL must make the kernel kill
every tracee.  This test process makes itself the child subreaper, so any
orphan of the run is re-parented to it: after the harness is gone, every
process it adopts must die on its own (it waits for them with a deadline),
and nothing may be left for it to adopt after that.  The kill points come
from a seeded generator: the verdict does not depend on where they fall.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from harness.running.tracer.ptrace_ext import child_subreaper

KILLS = [
    (signum, delay)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
    for delay in random.Random(475).sample([i / 100 for i in range(5, 120)], 6)
]


@pytest.fixture
def adopting() -> Iterator[None]:
    with child_subreaper():
        yield


def _reap_adopted(deadline: float) -> list[int]:
    """Wait for every process re-parented to us; return those still alive at the deadline."""
    reaped: list[int] = []
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return []  # no child left at all
        if pid:
            reaped.append(pid)
        else:
            time.sleep(0.01)  # polling our own children until the deadline: not part of any verdict's timing
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and _is_our_child(int(entry))]


def _is_our_child(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid()
    except (OSError, ValueError, IndexError):
        return False


def _run_marked(marker: str) -> list[int]:
    """Live processes whose environment carries the run's marker (tracees inherit the harness's environment)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if marker.encode() in environ.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.mark.parametrize(("signum", "delay"), KILLS, ids=[f"{signal.Signals(s).name}-{d}s" for s, d in KILLS])
def test_killing_the_harness_leaves_no_process_of_the_run(
    signum: int, delay: float, adopting: None, ptrace_permitted: None
) -> None:
    marker = f"HARNESS_KILL_TEST={os.getpid()}-{signum}-{delay}"
    env = {**os.environ, "HARNESS_KILL_TEST": marker.split("=", 1)[1]}
    command = [sys.executable, "-m", "harness", "run", "fork_threads", "--connections", "30"]
    command += ["--mode", "free", "--concurrency", "5", "-o", os.devnull]
    # The context manager waits for the harness whatever happens; the finally
    # kills it first when the test failed before the harness ended.
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as harness:
        try:
            time.sleep(delay)  # where the kill falls, not an ordering: any point must do
            harness.send_signal(signum)
            harness.wait(timeout=30)
        finally:
            if harness.poll() is None:
                harness.kill()
    survivors = _reap_adopted(time.monotonic() + 10)
    assert survivors == []
    assert _run_marked(marker) == []


def test_the_check_sees_a_process_left_behind(adopting: None) -> None:
    """The same checks, on a run that does leave an orphan behind: they must report it."""
    marker = f"HARNESS_KILL_TEST=orphan-{os.getpid()}"
    env = {**os.environ, "HARNESS_KILL_TEST": marker.split("=", 1)[1]}
    subprocess.run(["sh", "-c", "sleep 60 & exit 0"], env=env, check=True)
    try:
        survivors = _reap_adopted(time.monotonic() + 0.5)
        assert len(survivors) == 1
        assert _run_marked(marker) == survivors
    finally:
        for pid in _run_marked(marker):
            os.kill(pid, signal.SIGKILL)
        _reap_adopted(time.monotonic() + 5)
