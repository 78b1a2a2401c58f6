"""A traced command starts with SIGINT and SIGTERM at their defaults, however the harness was started."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

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
    What the harness itself inherited ignored is the command's as it would be untraced (a background job
    of a shell without job control ignores SIGQUIT, POSIX 2.11), but SIGINT and SIGTERM, which the
    harness catches while it traces and so resets (the tests above).
    """
    # grep reads its own status (CPython would ignore SIGPIPE and SIGXFSZ in itself as it starts).
    show_ignored = ["grep", "SigIgn", "/proc/self/status"]
    untraced = subprocess.run(show_ignored, capture_output=True, text=True, check=True)
    command = [sys.executable, "-m", "harness", "trace", "--syscalls", "exit_group", "-o", "/dev/null", "--"]
    done = subprocess.run([*command, *show_ignored], capture_output=True, text=True, check=True)
    reset = 1 << (signal.SIGINT - 1) | 1 << (signal.SIGTERM - 1)
    expected = int(untraced.stdout.split()[1], 16) & ~reset
    assert int(done.stdout.split()[1], 16) == expected, f"ignored in the traced command: {done.stdout.strip()}"
