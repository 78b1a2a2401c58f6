"""An exec closes every close-on-exec descriptor: the facts and explain count it as closed, and say so.

An inetd-style C server moves its listening socket to a descriptor number
of its choice and marks it close-on-exec (or not); each connection's child
execs ``cat``.  The child never calls close on the listener: with
close-on-exec, its execve closes it; without, cat holds the port.  At fd 3,
cat's dynamic loader opens and closes a file of its own at the number the
listener had: that close is not the listener's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.analysis.explain import explain
from harness.analysis.facts import TraceIndex, closes_the_listening_socket, no_zombie_left
from harness.model.events import ExecEvent, SyscallEvent
from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario
from harness.running.run_result import RunResult
from harness.running.serving import run_spec

pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def _serve(c_program: Callable[[str], Path], listener: str, fd: int) -> RunResult:
    command = (str(c_program("inetd_style")), "{port}", "2", listener, str(fd))
    run = run_spec(ServerSpec(command=command), Scenario(connections=2))
    assert run.ok, run.failure()
    return run


@pytest.mark.parametrize("fd", [7, 3])
def test_a_close_on_exec_listener_is_closed_by_each_childs_exec(c_program: Callable[[str], Path], fd: int) -> None:
    run = _serve(c_program, "cloexec", fd)
    index = TraceIndex(run.trace)
    children = ["main.1", "main.2"]
    for child in children:
        assert closes_the_listening_socket(index, child) == []
        [exec_event] = [e for e in run.trace.for_role(child) if isinstance(e, ExecEvent)]
        assert exec_event.fds is not None and fd not in exec_event.fds and {0, 1, 2} <= set(exec_event.fds)
    assert no_zombie_left(index, "main") == []
    findings = explain(run.trace)
    closed = [finding for finding in findings if finding.kind == "closed-on-exec"]
    assert [finding.roles for finding in closed] == [(child,) for child in children]
    assert f"{children[0]} inherited the listening socket fd {fd} from main; its execve of " in closed[0].details[0]
    assert "so it was close-on-exec" in closed[0].details[0]
    assert not [finding for finding in findings if finding.kind == "kept-listener"]


def test_at_fd_3_the_exec_d_programs_own_close_3_is_not_taken_for_the_listeners(
    c_program: Callable[[str], Path],
) -> None:
    run = _serve(c_program, "cloexec", 3)
    for child in ("main.1", "main.2"):
        events = run.trace.for_role(child)
        exec_at = next(e.seq for e in events if isinstance(e, ExecEvent))
        loader_closes = [e for e in events if isinstance(e, SyscallEvent) and e.name == "close" and e.seq > exec_at]
        assert any(e.args["fd"] == 3 for e in loader_closes)  # cat's loader: ld.so.cache at fd 3, then closed
        assert closes_the_listening_socket(TraceIndex(run.trace), child) == []  # closed by the exec, before


@pytest.mark.parametrize("fd", [7, 3])
def test_a_listener_without_close_on_exec_is_kept_by_the_exec_d_program(
    c_program: Callable[[str], Path], fd: int
) -> None:
    run = _serve(c_program, "inherit", fd)
    index = TraceIndex(run.trace)
    for child in ("main.1", "main.2"):
        [exec_event] = [e for e in run.trace.for_role(child) if isinstance(e, ExecEvent)]
        assert exec_event.fds is not None and fd in exec_event.fds
        [violation] = closes_the_listening_socket(index, child)
        assert violation.message.startswith(f"{child} never closed the listening socket fd {fd} it inherited")
    findings = explain(run.trace)
    assert not [finding for finding in findings if finding.kind == "closed-on-exec"]
    assert [finding.roles for finding in findings if finding.kind == "kept-listener"] == [("main.1",), ("main.2",)]


def test_a_listener_moved_by_dup2_is_still_held_and_dup2_cleared_its_close_on_exec_flag(
    c_program: Callable[[str], Path],
) -> None:
    """Each child dup2s the close-on-exec listener to fd 20 and closes the first number: cat holds fd 20.

    The close of the first number was taken for the listener's end before;
    and dup2 makes the new number without close-on-exec, which the exec
    event's descriptors (read from /proc once the kernel has closed the
    close-on-exec ones) show.
    """
    command = (str(c_program("inetd_style")), "{port}", "2", "cloexec", "7", "moved")
    run = run_spec(ServerSpec(command=command), Scenario(connections=2))
    assert run.ok, run.failure()
    index = TraceIndex(run.trace)
    for child in ("main.1", "main.2"):
        [exec_event] = [e for e in run.trace.for_role(child) if isinstance(e, ExecEvent)]
        assert exec_event.fds is not None and 20 in exec_event.fds and 7 not in exec_event.fds
        [violation] = closes_the_listening_socket(index, child)
        assert violation.message.startswith(f"{child} never closed the listening socket fd 7 it inherited from main")
        assert violation.message.endswith("still holding it (as fd 20)")
