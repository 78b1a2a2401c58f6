"""A traced command starts with SIGINT and SIGTERM at their defaults, however the harness was started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.running.tracer.spawn import RESTORED_SIGNALS

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

#: Prints the command's own SIGINT and SIGTERM dispositions, from /proc (SigIgn: the ignored set, proc(5)).
_SHOW = (
    "import signal; "
    "ignored = int(next(l for l in open('/proc/self/status') if l.startswith('SigIgn:')).split()[1], 16); "
    "print(*(bool(ignored >> (s - 1) & 1) for s in (signal.SIGINT, signal.SIGTERM)))"
)

#: Runs the harness's tracer on _SHOW with SIGINT ignored first, as a shell's background job has it.
_TRACE_WITH_SIGINT_IGNORED = f"""
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
from harness.running.tracer import Tracer
Tracer([sys.executable, "-I", "-c", {_SHOW!r}], syscalls=["exit_group"]).run()
"""


def test_a_harness_started_with_sigint_ignored_still_starts_the_command_with_its_default() -> None:
    """As a background job's: the trace (CPython's rt_sigaction(SIGINT) at start-up) must not depend on it."""
    done = subprocess.run(
        [sys.executable, "-c", _TRACE_WITH_SIGINT_IGNORED], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "False"]


def test_a_signal_the_harness_handles_is_at_its_default_in_the_command() -> None:
    code = (
        "from harness.running.tracer import Tracer; import sys; "
        f"Tracer([sys.executable, '-I', '-c', {_SHOW!r}], syscalls=['exit_group']).run()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_the_signals_the_harness_command_ignores_in_itself_are_at_their_defaults_in_the_traced_command() -> None:
    """An ignored disposition survives execve: what the command line ignores in itself must not reach the command.

    ``harness trace`` ignores SIGUSR1, SIGUSR2 and SIGALRM (a tracee's kill(getppid()) must not end it); the
    command would have them ignored, and a child's raise(SIGUSR1) would leave it alive where untraced it dies.
    What the harness inherited ignored and does not restore is the command's as it would be untraced (a
    background job of a shell without job control ignores SIGQUIT, POSIX 2.11); the signals it restores
    (harness/running/tracer/spawn.py: SIGINT, SIGTERM, SIGHUP...) start at their defaults, so that a trace
    does not depend on how the harness was started.
    """
    # grep reads its own status (CPython would ignore SIGPIPE and SIGXFSZ in itself as it starts).
    show_ignored = ["grep", "SigIgn", "/proc/self/status"]
    untraced = subprocess.run(show_ignored, capture_output=True, text=True, check=True)
    command = [sys.executable, "-m", "harness", "trace", "--syscalls", "exit_group", "-o", "/dev/null", "--"]
    done = subprocess.run([*command, *show_ignored], capture_output=True, text=True, check=True)
    restored = sum(1 << (signum - 1) for signum in RESTORED_SIGNALS)
    expected = int(untraced.stdout.split()[1], 16) & ~restored
    assert int(done.stdout.split()[1], 16) == expected, f"ignored in the traced command: {done.stdout.strip()}"


def _ignored_by(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("SigIgn:")).split()[1], 16)


def test_a_harness_started_under_nohup_stays_immune_to_hangups_during_its_run(tmp_path: Path) -> None:
    """nohup(1) ignores SIGHUP: the harness keeps it ignored while it traces, not only before.

    Its command waits on a FIFO: once the test's open for writing returns,
    the command runs, so the harness is inside its run (where it catches
    SIGINT and SIGTERM to end the run in order).
    """
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    waiting = [sys.executable, "-c", f"open({str(fifo)!r}).read()"]
    harness = [sys.executable, "-m", "harness", "trace", "--syscalls", "exit_group", "-o", "/dev/null", "--"]
    with subprocess.Popen(
        ["nohup", *harness, *waiting], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as run:
        with fifo.open("w") as go:
            ignored = _ignored_by(run.pid)
            go.write("go")
        assert run.wait(timeout=60) == 0
    assert ignored & 1 << (signal.SIGHUP - 1), f"SigIgn {ignored:016x}"
    assert not ignored & 1 << (signal.SIGTERM - 1)  # the run's own handler: SIGTERM still ends it in order
