"""Names read from the tracee's memory (Python frames) are escaped in every text output: no forged line, no escape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.programs import python_program

pytestmark = pytest.mark.usefixtures("ptrace_permitted")


def _harness(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *words], capture_output=True, text=True, timeout=120)


def _clean(text: str) -> None:
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert not any(line.startswith("[pid 1 main] forged") for line in text.splitlines()), text


def test_forged_frame_names_are_escaped_live_and_in_show(tmp_path: Path) -> None:
    program = [str(word) for word in python_program("forged_names.py")]
    jsonl, text = tmp_path / "t.jsonl", tmp_path / "t.txt"
    done = _harness("trace", "--python-frames", "-v", "--jsonl", str(jsonl), "-o", str(text), "--", *program)
    assert done.returncode == 0, done.stderr
    live = text.read_text()
    assert "forged() = 0" in live  # the name is there, escaped on the line of the close it made
    _clean(live)
    for verbose in ([], ["-v"]):
        shown = _harness("show", *verbose, str(jsonl))
        assert shown.returncode == 0 and "forged() = 0" in shown.stdout
        _clean(shown.stdout)
