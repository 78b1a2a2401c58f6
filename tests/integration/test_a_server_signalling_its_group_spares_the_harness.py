"""A server that signals its whole process group (Apache's parent at shutdown) reaches its own processes only."""

from __future__ import annotations

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
