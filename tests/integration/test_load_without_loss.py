"""A traced run of 1000 connections, 50 clients at a time, loses no event.

Every connection the clients made is an accept in the server, followed by
its clone; every child's exit is recorded and the child is reaped exactly
once; every SIGCHLD names a child.  (Standard signals of one kind do not
queue, so a reaping server sees fewer SIGCHLDs than children: that is the
kernel coalescing them, not an event lost; the reaps prove every exit.  And
under this load a fork is sometimes interrupted and restarted: the tracer
sees it return ERESTARTNOINTR first.)
"""

from __future__ import annotations

import pytest
from support.capability import missing

from harness.model.events import SignalEvent, SpawnEvent, SyscallEvent
from harness.model.scenario import Scenario
from harness.model.variants import find_variant
from harness.running.ports import free_port
from harness.running.run import run_server
from harness.running.variants import NoCompiler, variant_command

CONNECTIONS = 1000
CONCURRENCY = 50


@pytest.mark.parametrize("name", ["fork_sigchld", "c/echo_server"])
def test_every_connection_has_its_clone_exit_and_reap(name: str, ptrace_permitted: None) -> None:
    variant = find_variant(name)
    try:
        command = variant_command(variant, port := free_port(), CONNECTIONS)
    except NoCompiler as error:
        missing(str(error))
    scenario = Scenario(connections=CONNECTIONS, concurrency=CONCURRENCY, mode="free")

    result = run_server(command, variant.protocol, scenario, port=port, timeout=300)

    assert result.ok, result.summary()
    assert result.clients.completed == CONNECTIONS
    trace = result.trace
    main = trace.for_role("main")
    accepted = [
        e for e in main if isinstance(e, SyscallEvent) and e.name in ("accept", "accept4") and (e.ret or -1) >= 0
    ]
    children = [e for e in trace if isinstance(e, SpawnEvent) and e.role == "main"]
    assert len(accepted) == len(children) == CONNECTIONS
    clones = [e for e in main if isinstance(e, SyscallEvent) and e.name == "clone"]
    # A signal arriving while fork copies the process makes it return ERESTARTNOINTR to the
    # tracer, and the kernel starts the fork again (kernel/fork.c): a retry, not a child.
    assert {c.errno for c in clones if c.errno} <= {"ERESTARTNOINTR"}
    assert [c.ret for c in clones if not c.errno] == [child.child_pid for child in children]
    exits = [trace.exit_of(child.child_role) for child in children]
    assert all(exit_event is not None and exit_event.code == 0 for exit_event in exits)
    reaped = [e.ret for e in main if isinstance(e, SyscallEvent) and e.name == "wait4" and e.ret and e.ret > 0]
    assert sorted(pid for pid in reaped if pid) == sorted(child.child_pid for child in children)  # each once
    senders = {e.siginfo["si_pid"] for e in main if isinstance(e, SignalEvent) and e.name == "SIGCHLD"}
    assert senders and senders <= {child.child_pid for child in children}
