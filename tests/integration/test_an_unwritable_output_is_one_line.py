"""An output that cannot be written (a full device, a /proc file, a FIFO) is one line with its path, status 74.

Buffered writes fail late, at a buffer's flush or at the close: wherever it
fails, the command says which file and why, with no traceback, and a run
that was under way is ended with its whole tree.  ``/dev/full`` takes every
open and fails every write with ENOSPC; ``/proc/self/stat`` (the harness's
own) opens for writing and fails with EINVAL.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.nested_trace import NESTED
from support.processes import processes_holding

FULL = "No space left on device"
PROC = "Invalid argument"


def _harness(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *argv], capture_output=True, text=True, timeout=300, env=env
    )


def _one_line(done: subprocess.CompletedProcess[str], path: str, reason: str) -> None:
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == f"harness: cannot write {path}: {reason}"


@pytest.mark.parametrize(
    ("option", "path", "reason"),
    [
        ("-o", "/dev/full", FULL),
        ("--jsonl", "/dev/full", FULL),
        ("-o", "/proc/self/stat", PROC),
        ("--jsonl", "/proc/self/stat", PROC),
    ],
)
def test_trace_output_that_cannot_be_written(option: str, path: str, reason: str, ptrace_permitted: None) -> None:
    _one_line(_harness("trace", option, path, "--", "true"), path, reason)


@pytest.mark.parametrize("option", ["-o", "--jsonl"])
def test_a_run_whose_output_fills_up_ends_with_its_tree(option: str, tmp_path: Path, ptrace_permitted: None) -> None:
    """Twenty connections write more than a buffer: the write fails during the run, which ends at once."""
    marker = f"HARNESS_UNWRITABLE_TEST={tmp_path}"
    env = {**os.environ, "HARNESS_UNWRITABLE_TEST": str(tmp_path)}
    done = _harness("run", "fork_sigchld", "--connections", "20", option, "/dev/full", env=env)
    _one_line(done, "/dev/full", FULL)
    assert not any(line.startswith("fork_sigchld:") for line in done.stderr.splitlines())  # no run summary: it ended
    assert processes_holding(marker) == []


@pytest.mark.parametrize(("path", "reason"), [("/dev/full", FULL), ("/proc/self/stat", PROC)])
def test_report_output_that_cannot_be_written(path: str, reason: str, tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps(event) + "\n" for event in NESTED))
    _one_line(_harness("report", str(trace), "-o", path), path, reason)


def test_a_golden_file_never_replaces_what_is_not_a_regular_file(tmp_path: Path, ptrace_permitted: None) -> None:
    fifo = tmp_path / "story.golden.yaml"
    os.mkfifo(fifo)
    done = _harness("record", "fork_sigchld", "--connections", "1", "-o", str(fifo))
    _one_line(done, str(fifo), "not a regular file (a file written whole replaces only a regular file)")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [entry.name for entry in tmp_path.iterdir()] == [fifo.name]  # no temporary file left


def test_a_golden_file_in_proc_is_refused(ptrace_permitted: None) -> None:
    done = _harness("record", "fork_sigchld", "--connections", "1", "-o", "/proc/self/stat")
    _one_line(done, "/proc/self/stat", "no new file can be made in /proc/self (No such file or directory)")


@pytest.mark.parametrize("command", ["show", "explain"])
def test_standard_output_that_cannot_be_written(command: str, tmp_path: Path) -> None:
    trace = tmp_path / "nested.jsonl"
    trace.write_text("".join(json.dumps(event) + "\n" for event in NESTED))
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "harness", command, str(trace)], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert done.returncode == 74, done.stderr
    assert done.stderr.splitlines() == [f"harness: cannot write standard output: {FULL}"]
