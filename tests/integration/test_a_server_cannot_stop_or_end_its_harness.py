"""A server cannot reach its harness: not by signalling its process group, nor by a signal, a trace or a pidfd."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def test_kill_0_from_the_server_does_not_end_the_harness(c_program: Callable[[str], Path], tmp_path: Path) -> None:
    jsonl = tmp_path / "run.jsonl"
    server = [str(c_program("signals_its_group")), "{port}", "{connections}"]
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--connections", "2", "--jsonl", str(jsonl), "--", *server],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # 143, "terminated", before the fix
    summary = done.stderr.splitlines()[-1]
    assert "2 connections, clients ok, server exited with 0" in summary, summary
    assert '"name": "SIGTERM"' in jsonl.read_text()  # the server's own signal, delivered to it and traced


@pytest.mark.parametrize("seccomp", [True, False], ids=["prefilter", "every-call"])
def test_a_server_cannot_signal_stop_or_trace_its_harness(c_program: Callable[[str], Path], seccomp: bool) -> None:
    """SIGSTOP froze the run, SIGHUP and SIGTERM ended it without a verdict, PTRACE_ATTACH stopped it for good."""
    server = [str(c_program("attacks_its_harness")), "{port}", "{connections}"]
    mode = [] if seccomp else ["--no-seccomp"]
    run = [sys.executable, "-m", "harness", "run", *mode, "--connections", "2", "-o", os.devnull, "--", *server]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "2 connections, clients ok, server exited with 0" in done.stderr.splitlines()[-1]
    said = [line for line in done.stderr.splitlines() if "fails with EPERM" in line]
    assert said == [
        "harness: main (pid {}) called kill to send SIGUSR1 to the harness: it fails with EPERM, as every call of "
        "a traced process on the harness does, so that nothing traced can stop or end the run".format(
            said[0].split("(pid ")[1].split(")")[0]
        )
    ]  # once per process
