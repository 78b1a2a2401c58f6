"""A process that runs the harness keeps its own children: their statuses are its to collect.

The harness runs inside host processes (the ``harness_run`` fixture, the
pytest plugin, a user's script).  A child the host started before a run, and
which ended before or during it, is a zombie waiting for the host's own
``wait``: a tracer that waits for any child (``waitpid(-1)``) would reap it,
and the host would get ECHILD (``subprocess`` reports it as status 0) instead
of the child's status.  Each test makes the host child a zombie before the
run starts (``waitid`` with ``WNOWAIT`` waits for its end without reaping it),
so that a tracer reaping it would do so on every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from harness.model.events import SpawnEvent
from harness.running.tracer import Tracer

#: Each test here runs a command under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def _ended_unreaped(child: subprocess.Popen[bytes]) -> None:
    """Wait until ``child`` has ended, leaving it a zombie for its own ``wait``."""
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)


def test_a_host_child_keeps_its_status_across_a_library_run() -> None:
    child = subprocess.Popen(["sh", "-c", "exit 3"])
    _ended_unreaped(child)
    result = Tracer([sys.executable, "-c", "import os; os.fork() or os._exit(0); os.wait()"]).run()
    assert result.exit_code == 0
    assert child.wait() == 3


def test_a_host_child_keeps_its_status_across_the_fixtures_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import os
            import subprocess

            def test_host_child(harness_run):
                child = subprocess.Popen(["sh", "-c", "exit 3"])
                os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
                harness_run("fork_sigchld", connections=2)
                assert child.wait() == 3
            """
        )
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)


#: The parent forks a child and waits for it; the child forks a grandchild, waits for its end without
#: reaping it (WNOWAIT), and exits: the grandchild's zombie, whose end the tracer has seen, is
#: re-parented to the harness (its subreaper), to its main thread, not the tracer's.
_ORPHAN = """
import os
if os.fork() == 0:
    if os.fork() == 0:
        os._exit(0)
    os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
    os._exit(0)
os.wait()
"""


def test_the_runs_orphans_are_reaped_by_the_run() -> None:
    result = Tracer([sys.executable, "-c", _ORPHAN], syscalls=["exit_group"]).run()
    spawned = {event.child_pid for event in result.trace if isinstance(event, SpawnEvent)}
    assert len(spawned) == 2
    assert not [pid for pid in spawned if os.path.exists(f"/proc/{pid}")]
