"""A source argument that cannot be right is refused with one ``harness:`` line and its status, before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["run", "--", "./my_server"], 2, "the command must be told its port: put {port} where it goes"),
        (["record", "--", "./my_server", "{port}"], 2, "say where to write the golden file of ./my_server '{port}'"),
        (["record", "mine.expect.yaml"], 2, "say where to write the golden file of mine.expect.yaml with -o FILE"),
        (["explain", "notes.yaml"], 65, "notes.yaml: not a golden file (*.golden.yaml), an expectation file"),
        (["run", "fork_sigchld", "--", "./my_server", "{port}"], 2, "give one source"),
        (["run"], 2, "give one source"),
        (["run", "fork_sigchld", "--protocol", "rpc"], 2, "--protocol is for your own server"),
        (["diff", "fork_sigchld"], 2, "give two sides to compare: A B, or A and your own server after '--'"),
        (["diff", "a.jsonl", "b.jsonl", "--", "./my_server", "{port}"], 2, "not three"),
        (["record", "run.jsonl", "-o", "x.golden.yaml"], 2, "run.jsonl: 'harness record' runs a server"),
    ],
)
def test_a_wrong_source_is_one_line(tmp_path: Path, args: list[str], status: int, message: str) -> None:
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    (tmp_path / "mine.expect.yaml").write_text(
        "server:\n  command: ./absent {port}\nassertions:\n  - name: x\n    never: poll\n"
    )
    done = harness(*args, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (status, "")
    [line] = done.stderr.splitlines()
    assert line.startswith("harness: ") and message in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mine.expect.yaml", "notes.yaml"]  # nothing written
