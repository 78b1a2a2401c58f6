"""With Python frames, explain and the assertions say whose code made each call.

* explain tells CPython's own retry inside socket.accept (PEP 475, fork_sigchld)
  from the program's own loop around a raw accept4 (fork_sigchld_raises), and
  names the line, the handler that ran and the code path of each reap;
* a step may require the calling code (``@ function``, ``@ file.py:line``),
  and fails, saying where the call was made, when another code made it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import SERVERS

from harness.analysis.checked_trace import CheckedTrace, TraceAssertionError
from harness.analysis.explain import explain
from harness.model.events import SpawnEvent, SyscallEvent
from harness.model.frames import Frame, user_frame
from harness.model.loader import load_expectations
from harness.model.scenario import Scenario
from harness.running.sources import trace_of


def line_of(server: str, text: str) -> int:
    """The line of ``servers/SERVER`` that holds ``text``: the tests follow the source, not a copy of it."""
    lines = (SERVERS / server).read_text().splitlines()
    (number,) = [number for number, line in enumerate(lines, 1) if text in line]
    return number


def interrupted_accounts(variant: str) -> list[str]:
    findings = explain(trace_of(variant, Scenario(connections=2, python_frames=True)))
    return [" ".join((f.title, *f.details)) for f in findings if f.kind == "interrupted"]


def test_explain_tells_cpythons_own_retry_inside_socket_accept(ptrace_permitted: None) -> None:
    accept = f"fork_sigchld.py:{line_of('fork_sigchld.py', 'listener.accept()')} in main"
    (account,) = interrupted_accounts("fork_sigchld")
    assert re.search(rf"entered at #\d+, at socket\.py:\d+ in accept <- {accept}\)", account)
    assert "Both entries come from the same place in the standard library" in account
    assert "(PEP 475)" in account and "never saw the EINTR" in account
    assert "The Python handler reap_on_sigchld (_common.py:" in account
    assert "Two causes fit" not in account  # the frames told them apart


def test_explain_tells_the_programs_own_loop_with_its_line(ptrace_permitted: None) -> None:
    raw = f"fork_sigchld_raises.py:{line_of('fork_sigchld_raises.py', '_libc.accept4(')} in accept_like_python2"
    (account,) = interrupted_accounts("fork_sigchld_raises")
    assert f"The program's own code made the call again, at {raw}, called from fork_sigchld_raises.py:" in account
    assert "the program's own loop saw the EINTR and called again" in account
    assert "Both entries come from the same place" not in account
    assert "The Python handler reap_on_sigchld" in account


def test_explain_names_the_code_path_that_reaped_each_child(ptrace_permitted: None) -> None:
    findings = explain(trace_of("fork_sigchld", Scenario(connections=2, python_frames=True)))
    reaps = [" ".join(f.details) for f in findings if f.kind == "zombie"]
    reaped = r"reaped it with wait4 at #\d+ \(\d+ events? later(, [\d.]+ m?s after its exit)?\), from _common\.py:"
    assert reaps and all(re.search(reaped, r) for r in reaps)
    assert any("in reap_exited_children <- _common.py:" in r and "in reap_on_sigchld" in r for r in reaps)
    assert any("in reap_remaining_children" in r for r in reaps)


def test_a_step_can_require_the_calling_function_or_line(harness_run: Callable[..., CheckedTrace]) -> None:
    trace = harness_run("fork_sigchld", connections=2, python_frames=True)
    accept = line_of("fork_sigchld.py", "listener.accept()")
    trace.sequence("accept4 -> ERESTARTSYS @ main", "wait4 -> child @ reap_on_sigchld", "accept4 -> $conn @ accept")
    trace.sequence(f"accept4 @ fork_sigchld.py:{accept}", f"--- SIGCHLD @ fork_sigchld.py:{accept}")
    trace.never("accept4 @ serve_forever")
    with pytest.raises(TraceAssertionError) as failed:
        trace.sequence("accept4 @ serve_forever")
    assert f"it was made at socket.py:294 in accept <- fork_sigchld.py:{accept} in main, not @ serve_forever" in str(
        failed.value
    )


def test_a_step_with_at_fails_when_the_frames_were_not_read(harness_run: Callable[..., CheckedTrace]) -> None:
    trace = harness_run("fork_sigchld", connections=2)
    with pytest.raises(TraceAssertionError) as failed:
        trace.sequence("accept4 @ main")
    assert "its Python frames were not read (python_frames: true, --python-frames)" in str(failed.value)


def test_an_expectation_with_at_reads_the_frames_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "pinned.expect.yaml"
    path.write_text(
        "server: fork_sigchld\nassertions:\n  - name: accept in main\n    sequence: ['accept4 -> $conn @ main']\n"
    )
    assert load_expectations(path).scenario.python_frames is True
    path.write_text(
        "server: fork_sigchld\nscenario: {python_frames: true}\nassertions:\n  - name: a\n    never: exec\n"
    )
    assert load_expectations(path).scenario.python_frames is True
    path.write_text("server: fork_sigchld\nassertions:\n  - name: a\n    never: exec\n")
    assert load_expectations(path).scenario.python_frames is False


def test_each_worker_of_a_pre_fork_server_accepts_at_the_servers_line(
    harness_run: Callable[..., CheckedTrace],
) -> None:
    server = Path(__file__).parent / "servers" / "prefork_echo.py"
    accept = next(n for n, line in enumerate(server.read_text().splitlines(), 1) if "listener.accept()" in line)
    # ready=2: the clients start once both workers have entered accept4, so each has an accept4 to show.
    # Which worker serves which connection is the kernel's choice: a worker back from serving can take a
    # queued connection before the waiter it woke runs (1 run in 9 under load, one worker served all three).
    trace = harness_run(
        [sys.executable, str(server), "{port}", "{connections}"],
        connections=3,
        mode="free",
        ready=2,
        python_frames=True,
    )
    trace.sequence(f"accept4 @ prefork_echo.py:{accept}", role="every child")
    trace.sequence(f"accept4 -> $conn @ prefork_echo.py:{accept}", role="any child")
    # Where SIGTERM finds a worker is a race (in accept, or just after serving); in the server's file, always.
    trace.sequence("--- SIGTERM @ prefork_echo.py", role="every child")
    trace.never("accept4", role="main")
    workers = {e.child_role for e in trace.trace if isinstance(e, SpawnEvent)}
    assert workers == {"main.1", "main.2"}
    for event in trace.trace:
        if isinstance(event, SyscallEvent) and event.name == "accept4":
            assert event.python is not None
            assert user_frame(event.python) == Frame(file=str(server), line=accept, function="<module>")
