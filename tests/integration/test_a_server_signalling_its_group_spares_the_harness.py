"""A server that signals its whole process group (Apache's parent at shutdown) reaches its own processes only."""

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


def test_signals_the_harness_never_uses_cannot_end_it_and_a_hangup_ends_it_in_order(
    c_program: Callable[[str], Path],
) -> None:
    server = [str(c_program("signals_its_parent")), "{port}", "{connections}"]
    run = [sys.executable, "-m", "harness", "run", "--connections", "2", "-o", os.devnull, "--"]
    done = subprocess.run([*run, *server], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # 138 (SIGUSR1) with no word, before
    hung_up = subprocess.run([*run, *server, "hup"], capture_output=True, text=True, timeout=120)
    assert hung_up.returncode == 128 + 1, hung_up.stderr
    assert "interrupted by SIGHUP (the whole tree was killed)" in hung_up.stderr.splitlines()[-1]
