"""``ready: N``: in free mode the clients start once N processes of the server wait for a connection.

A pre-fork server whose last worker starts late: with ``ready: 2`` no
connection is accepted before both workers have entered ``accept4``, on every
run, because the clients do not start before the tracer has seen both
entries.  Asking for more processes than ever accept ends the run at once,
saying how many did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.model.events import SyscallEvent
from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario
from harness.model.trace import Trace
from harness.running.serving import run_spec

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

#: Two workers, the second starting 0.3 s late: without ``ready: 2``, the first serves every client alone.
PREFORK = (sys.executable, str(Path(__file__).parent / "servers" / "prefork_echo.py"), "{port}", "{connections}")


def _accepts(trace: Trace) -> list[SyscallEvent]:
    return [event for event in trace if isinstance(event, SyscallEvent) and event.name == "accept4"]


def test_no_connection_is_accepted_before_every_worker_waits_for_one() -> None:
    run = run_spec(ServerSpec(command=(*PREFORK, "0.3")), Scenario(connections=3, mode="free", ready=2))
    assert run.ok, run.summary()
    accepts = _accepts(run.trace)
    first_entry: dict[int, int] = {}
    for event in accepts:
        first_entry.setdefault(event.pid, event.enter_seq)
    assert len(first_entry) == 2, "both workers accept"
    served = [event.seq for event in accepts if event.ret is not None and event.ret >= 0]
    assert len(served) == 3
    assert max(first_entry.values()) < min(served)


def test_asking_for_more_processes_than_accept_ends_the_run_saying_how_many_did() -> None:
    run = run_spec(ServerSpec(command=PREFORK), Scenario(connections=2, mode="free", ready=3), timeout=30)
    assert not run.ok
    assert run.clients.completed == 0
    assert run.not_ready == (2, 3)
    assert "only 2 of the 3 processes the scenario waits for (ready: 3) waited for a connection" in str(run.failure())


def test_a_parent_asleep_in_select_on_its_status_pipe_is_no_worker_waiting_for_a_connection() -> None:
    """Apache's parent sleeps in pselect6 on a pipe: the same call as a worker's poll, but for no client."""
    command = (*PREFORK, "0", "select")
    run = run_spec(
        ServerSpec(command=command), Scenario(connections=2, mode="free", ready=3), timeout=30, syscalls=("pselect6",)
    )
    assert any(
        isinstance(event, SyscallEvent) and (event.role, event.name) == ("main", "pselect6") for event in run.trace
    )
    assert run.clients.completed == 0
    assert run.not_ready == (2, 3), run.summary()  # the two workers; main's select watches a pipe
    ready = run_spec(ServerSpec(command=command), Scenario(connections=2, mode="free", ready=2))
    assert ready.ok, ready.summary()
