"""Deterministic mode on any server: launchers are never held, other shapes step aside, stalls end at once."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.model.errors import RunStalled
from harness.model.events import SyscallEvent
from harness.model.expectations import ServerSpec
from harness.model.scenario import Mode, Scenario, Stop
from harness.model.variants import servers_dir
from harness.running.run_result import RunResult, ScheduleUsed
from harness.running.serving import run_spec

#: Each test here runs a server under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")

HERE = Path(__file__).parent / "servers"
LAUNCHER = HERE / "launcher.sh"


def run(argv: list[str], mode: Mode = "deterministic", connections: int = 3) -> RunResult:
    """A run on a port the harness draws, and draws again if another run takes it first (run_spec)."""
    return run_spec(ServerSpec(command=tuple(argv)), Scenario(connections=connections, mode=mode), timeout=60)


def fork_sigchld(*launcher: str) -> list[str]:
    return [*launcher, str(servers_dir() / "fork_sigchld.py"), "--port", "{port}", "--connections", "{connections}"]


def interrupted_accepts(result: RunResult) -> int:
    return sum(
        isinstance(e, SyscallEvent) and e.role == "main" and e.name == "accept4" and e.errno == "ERESTARTSYS"
        for e in result.trace
    )


def test_a_launcher_whose_helpers_exit_before_the_server_listens_is_never_held() -> None:
    result = run(fork_sigchld(str(LAUNCHER), sys.executable))
    assert result.ok, result.failure()
    assert result.schedule == ScheduleUsed("deterministic")
    assert (
        interrupted_accepts(result) == 2
    )  # still ordered: each child but the last (reaped at the end) interrupts accept4


def test_a_python3_launcher_first_on_path_is_never_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = tmp_path / "python3"
    shim.write_text(f'#!/bin/sh\nversion=$(echo 3.11; true)\nexec {sys.executable} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = run(fork_sigchld("python3"))
    assert result.ok, result.failure()
    assert interrupted_accepts(result) == 2


def test_an_sh_wrapper_with_command_substitution_is_never_held() -> None:
    wrapper = ["sh", "-c", 'v=$(echo 1; true); exec "$@"', "sh", sys.executable]
    result = run(fork_sigchld(*wrapper))
    assert result.ok, result.failure()
    assert interrupted_accepts(result) == 2


@pytest.mark.parametrize(
    ("server", "why"),
    [
        ("iterative_echo.py", ("main waits for its next connection, having served the last one without forking",)),
        # Which worker takes the first connection is the kernel's choice: either reason is the truth.
        ("prefork_echo.py", ("(a pre-fork server)", "having served the last one without forking")),
    ],
)
def test_a_server_of_another_shape_is_served_with_the_schedule_stepping_aside(
    server: str, why: tuple[str, ...]
) -> None:
    result = run([sys.executable, str(HERE / server), "{port}", "{connections}"])
    assert result.ok, result.failure()
    stepped_aside = result.schedule.stepped_aside
    assert result.schedule.deterministic and stepped_aside is not None
    assert any(reason in stepped_aside for reason in why)
    assert "deterministic (stepped aside" in result.summary()


def test_a_server_that_never_accepts_stalls_and_says_where_everyone_waits() -> None:
    result = run([sys.executable, str(HERE / "never_accepts.py"), "{port}"])
    assert result.stalled is not None and not result.timed_out
    failure = result.failure()
    assert isinstance(failure, RunStalled)
    assert "the next client waited for its turn" in str(failure)
    assert "main blocked in read" in str(failure)


def test_a_parent_reading_its_held_childs_output_until_eof_gets_that_exit_and_is_told_what_may_vary() -> None:
    """The parent reads its child's pipe until EOF, which only the child's exit brings: the hold is let go.

    The exit both ends the read and sends SIGCHLD, with the parent in no waiting call: where the signal lands
    among its next calls is the kernel's race, and the summary says so rather than promise an order.
    """
    argv = [sys.executable, str(HERE / "reads_child_output.py"), "{port}", "{connections}"]
    result = run(argv, connections=2)
    assert result.ok, result.failure()
    assert result.schedule == ScheduleUsed("deterministic")
    for child in ("main.1", "main.2"):
        assert (
            f"note: {child}'s exit, held by the harness, was let go: the run stood still, as if waiting for it "
            "(its parent was not waiting: where its SIGCHLD lands can vary between runs)"
        ) in result.summary()


def test_a_connection_childs_exit_is_let_go_when_its_own_child_reads_until_it_ends(
    c_program: Callable[[str], Path],
) -> None:
    """Ncat --exec's shape: a connection's child relays to a helper over a pipe, and exits without waiting for it.

    The helper waits for EOF, which only that exit brings; the parent waits in accept, so the order holds.
    """
    argv = [str(c_program("relay_to_helper")), "{port}", "{connections}"]
    runs = [run(argv, connections=2) for _ in range(5)]
    for result in runs:
        assert result.ok, result.failure()
        assert result.summary().endswith(
            "note: main.1's exit, held by the harness, was let go: the run stood still, as if waiting for it; "
            "note: main.2's exit, held by the harness, was let go: the run stood still, as if waiting for it"
        )
    assert all(result.trace.outline() == runs[0].trace.outline() for result in runs)


def test_a_server_that_does_not_exit_after_its_clients_is_ended_with_a_hint_to_stop_it() -> None:
    argv = [sys.executable, str(HERE / "iterative_echo.py"), "{port}", "1000"]  # serves far more than 2 clients
    result = run(argv, mode="free", connections=2)
    assert result.clients.ok and result.stalled is None and result.serving_on is not None
    assert "1 s after the clients were done" in str(result.failure())
    assert "give it a stop signal: --stop SIGTERM" in str(result.failure())


def test_a_c_server_with_a_thread_per_connection_is_served_with_the_schedule_stepping_aside(
    c_program: Callable[[str], Path],
) -> None:
    result = run([str(c_program("thread_per_connection")), "{port}", "{connections}"])
    assert result.ok, result.failure()
    assert result.schedule == ScheduleUsed(
        "deterministic", "main waits for its next connection, having served the last one in a thread of its own"
    )


def test_an_iterative_server_whose_worker_thread_accepts_is_served_with_the_schedule_stepping_aside(
    c_program: Callable[[str], Path],
) -> None:
    """The server is the process, whichever of its threads accepts: its worker thread's accept is its turn."""
    result = run([str(c_program("thread_takes_sigchld")), "{port}", "{connections}"])
    assert result.ok, result.failure()
    assert result.schedule == ScheduleUsed(
        "deterministic", "main waits for its next connection, having served the last one without forking"
    )


def test_pythons_threading_http_server_is_served_in_the_default_mode_with_the_schedule_stepping_aside() -> None:
    """``python -m http.server``: a ThreadingHTTPServer whose serve_forever polls every 0.5 s, stopped by SIGTERM."""
    command = (sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}")
    result = run_spec(ServerSpec(command=command, protocol="http", stop=Stop("SIGTERM")), Scenario(connections=3))
    assert result.ok, result.failure()
    assert result.clients.completed == 3
    assert result.schedule == ScheduleUsed(
        "deterministic", "main waits for its next connection, having served the last one in a thread of its own"
    )
