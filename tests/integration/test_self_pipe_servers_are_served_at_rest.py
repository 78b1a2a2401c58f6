"""A self-pipe fork server's story is the same on every deterministic run: a turn comes only at rest.

Its SIGCHLD handler only writes to a pipe (Python's ``signal.set_wakeup_fd``,
a C handler of its own); its poll loop reaps.  After a child's exit the
server enters poll again with the pipe already readable: that poll returns
at once, and is no rest.  The next client and the stop signal come only at
the poll after the reap (harness.running.readiness), so each connection's
child is reaped before the next connection, and the last before SIGTERM,
on every run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.model.events import SignalEvent, SyscallEvent
from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario, Stop
from harness.running.run_result import RunResult, ScheduleUsed
from harness.running.serving import run_spec

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

SERVERS = Path(__file__).parent / "servers"
RUNS = 20
CONNECTIONS = 3


def _story_and_order(run: RunResult) -> tuple[dict[str, list[str]], list[str]]:
    """The per-role story, and main's accepts, reaps and SIGTERM in order."""
    main = [
        "accept" if e.name.startswith("accept") else "reap" if e.name == "wait4" else "SIGTERM"
        for e in run.trace.for_role("main")
        if (isinstance(e, SyscallEvent) and (e.name.startswith("accept") or (e.name == "wait4" and (e.ret or 0) > 0)))
        or (isinstance(e, SignalEvent) and e.name == "SIGTERM")
    ]
    return run.trace.outline(), main


def _every_run_alike(command: tuple[str, ...]) -> None:
    stories = []
    for _ in range(RUNS):
        run = run_spec(ServerSpec(command=command, stop=Stop("SIGTERM")), Scenario(connections=CONNECTIONS))
        assert run.ok, run.failure()
        assert run.schedule == ScheduleUsed("deterministic")
        story, order = _story_and_order(run)
        assert order == ["accept", "reap"] * CONNECTIONS + ["SIGTERM"]  # each reap before the next, then the stop
        stories.append(story)
    assert all(story == stories[0] for story in stories)


def test_a_python_wakeup_fd_server_tells_the_same_story_on_every_run() -> None:
    _every_run_alike((sys.executable, str(SERVERS / "self_pipe_fork.py"), "{port}", "forever"))


def test_a_c_self_pipe_server_tells_the_same_story_on_every_run(c_program: Callable[[str], Path]) -> None:
    _every_run_alike((str(c_program("self_pipe_fork")), "{port}", "forever"))
