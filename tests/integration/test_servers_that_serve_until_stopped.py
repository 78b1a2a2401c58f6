"""server.stop: a server that never exits by itself is sent its stop signal after the clients, and given a grace.

Real servers under real ptrace: a ``socketserver.ForkingTCPServer`` that SIGTERM's
default action kills, one that ignores SIGTERM, and one that shuts down cleanly
on it (``examples/forking_tcp_server``).  The order is the tracer's: the harness
waits for the server's end as the tracer reports it, with the grace as a limit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.model.events import ExitEvent, SignalEvent
from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario, Stop
from harness.model.trace import Trace
from harness.running.serving import run_spec

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

PROGRAMS = Path(__file__).parent / "programs"
SERVE = [sys.executable, str(PROGRAMS / "serve_until_signalled.py"), "{port}"]


def _main_ending(run_trace: Trace) -> tuple[list[str], ExitEvent]:
    """The signals delivered to the server's main process, and its end."""
    signals = [event.name for event in run_trace if isinstance(event, SignalEvent) and event.role == "main"]
    [end] = [event for event in run_trace if isinstance(event, ExitEvent) and event.role == "main"]
    return signals, end


def test_a_server_killed_by_its_stop_signal_ends_as_asked() -> None:
    run = run_spec(ServerSpec(command=tuple(SERVE), stop=Stop("SIGTERM")), Scenario(connections=2))
    assert run.ok, run.summary()
    assert (run.stop_sent, run.exit_signal, run.grace_expired) == (True, "SIGTERM", False)
    assert run.clients.completed == 2
    signals, end = _main_ending(run.trace)
    assert signals[-1] == "SIGTERM"
    assert end.signal == "SIGTERM"
    assert "server killed by SIGTERM after SIGTERM" in run.summary()


def test_a_server_that_ignores_its_stop_signal_is_killed_after_the_grace_and_fails() -> None:
    stop = Stop("SIGTERM", grace=0.5)
    run = run_spec(ServerSpec(command=(*SERVE, "ignore"), stop=stop), Scenario(connections=2))
    assert run.clients.ok
    assert not run.ok
    assert (run.stop_sent, run.grace_expired, run.exit_signal) == (True, True, "SIGKILL")
    assert run.timed_out is False
    failure = run.failure()
    assert failure is not None
    assert "server still running 0.5 s after SIGTERM (the whole tree was killed)" in str(failure)
    signals, _ = _main_ending(run.trace)
    assert "SIGTERM" in signals  # delivered, and ignored: the trace keeps it


def test_a_server_that_exits_0_on_its_stop_signal_ends_as_asked() -> None:
    server = Path(__file__).parents[2] / "examples" / "forking_tcp_server" / "echo_server.py"
    run = run_spec(ServerSpec(command=(sys.executable, str(server), "{port}"), stop=Stop("SIGTERM")), Scenario(3))
    assert run.ok, run.summary()
    assert (run.stop_sent, run.exit_code, run.exit_signal) == (True, 0, None)
    assert "server exited with 0 after SIGTERM" in run.summary()


def test_without_a_stop_a_server_that_exits_0_is_never_signalled() -> None:
    """The default, stop: exit, is the contract of the bundled variants: nothing is sent."""
    run = run_spec(ServerSpec(variant="fork_sigchld"), Scenario(connections=2))
    assert run.ok
    assert run.stop_sent is False
    signals, _ = _main_ending(run.trace)
    assert "SIGTERM" not in signals


def test_a_server_that_exits_128_plus_its_stop_signal_ends_as_asked() -> None:
    """socat, shells and the JVM exit 143 on SIGTERM: the status a shell gives a command SIGTERM ended."""
    run = run_spec(ServerSpec(command=(*SERVE, "exit", "143"), stop=Stop("SIGTERM")), Scenario(connections=2))
    assert run.ok, run.summary()
    assert (run.stop_sent, run.exit_code, run.exit_signal) == (True, 143, None)
    assert "server exited with 143 (128+SIGTERM) after SIGTERM" in run.summary()


@pytest.mark.parametrize(("exits", "ok"), [(frozenset({0}), False), (frozenset({0, 1}), True)])
def test_another_exit_status_ends_the_run_well_only_where_it_is_named(exits: frozenset[int], ok: bool) -> None:
    stop = Stop("SIGTERM", exits=exits)
    run = run_spec(ServerSpec(command=(*SERVE, "exit", "1"), stop=stop), Scenario(connections=1))
    assert (run.ok, run.exit_code) == (ok, 1), run.summary()
    assert "server exited with 1 after SIGTERM" in run.summary()


def test_a_wrapper_that_forks_the_server_is_named_with_what_it_left_running() -> None:
    """Sh runs the server as its child (a command follows it): SIGTERM kills sh, the server runs on.

    The server blocks in accept for good (a poll with a timeout would be between two calls on some runs).
    """
    server = PROGRAMS.parent / "servers" / "iterative_echo.py"
    wrapped = ("sh", "-c", f"{sys.executable} {server} {{port}} 1000; true")
    run = run_spec(ServerSpec(command=wrapped, stop=Stop("SIGTERM", grace=0.5)), Scenario(connections=1))
    assert run.clients.ok and not run.ok
    server_pid = next(event.pid for event in run.trace if event.role == "main.1")
    failure = str(run.failure())
    assert f"main.1 (pid {server_pid}, {sys.executable} {server} {run.port} 1000) was running in accept4" in failure, (
        failure
    )
    assert "main (sh -c " in failure and ") killed by SIGTERM, but what it started ran on" in failure
    assert "a wrapper that forks the server should exec it instead" in failure


@pytest.mark.parametrize(
    ("program", "call"),
    [
        ((PROGRAMS / "serve_until_signalled.py", "{port}"), "poll"),
        ((PROGRAMS.parent / "servers" / "iterative_echo.py", "{port}", "1000"), "accept4"),  # 1000 connections
    ],
    ids=["poll with a timeout", "blocking accept"],
)
def test_a_server_that_serves_on_without_a_stop_signal_ends_at_once_with_the_fix(
    program: tuple[Path | str, ...], call: str
) -> None:
    """Its clients are done, it waits for the next connection: not a stall, nor a wait for the time limit."""
    command = (sys.executable, *map(str, program))
    run = run_spec(ServerSpec(command=command), Scenario(connections=2), timeout=600)
    assert run.clients.ok and not run.ok
    assert (run.timed_out, run.stalled) == (False, None)
    assert run.serving_on is not None and (run.serving_on.waiting.role, run.serving_on.waiting.call) == ("main", call)
    assert f"main still waited in {call} 1 s after the clients were done" in str(run.failure())
    assert str(run.failure()).endswith("give it a stop signal: --stop SIGTERM (stop: SIGTERM in the file)")
