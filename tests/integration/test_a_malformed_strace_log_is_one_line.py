"""An strace log that cannot be read ends in one ``harness: FILE:LINE: ...`` line and status 65, never a traceback.

Each bad log is made here from a real one (strace run on
``programs/strace_lessons.c``), broken as logs get broken: cut short in a
line, cut at its start, a call resumed without its first half, another
format's line in the middle, lines of a log without pids mixed in.
Every command that reads a trace says the same line.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import EXPECTATIONS

from harness.faces.cli import main


@pytest.fixture
def real_log(c_program: Callable[[str], Path], strace: Path, ptrace_permitted: None, tmp_path: Path) -> list[str]:
    """The lines of a real ``strace -f -o`` log of the lessons program (strace needs ptrace as the harness does)."""
    log = tmp_path / "lessons.log"
    subprocess.run([str(strace), "-f", "-o", str(log), str(c_program("strace_lessons"))], check=False)
    return log.read_text().splitlines()


def _index(lines: list[str], pattern: str) -> int:
    return next(index for index, line in enumerate(lines) if re.search(pattern, line))


def _cut_in_a_line(lines: list[str]) -> tuple[list[str], int, str]:
    at = _index(lines, r"^\d+ +rt_sigaction\(SIGCHLD, \{")
    return [*lines[:at], lines[at][: len(lines[at]) // 2]], at + 1, "arguments never close"


def _resumed_without_its_start(lines: list[str]) -> tuple[list[str], int, str]:
    start = _index(lines, r"accept\(3, NULL, NULL <unfinished \.\.\.>$")
    resumed = _index(lines, r"<\.\.\. accept resumed>")
    broken = lines[:start] + lines[start + 1 :]
    return broken, resumed, "without its 'accept(... <unfinished ...>' line"


def _cut_at_its_start(lines: list[str]) -> tuple[list[str], int, str]:
    at = _index(lines, r"clone\(.*\) = \d+$") + 1  # the first child's lines, without the clone that made it
    rest = lines[at:]
    # The first task seen is taken for the first task of the log; the first line of another is at fault.
    other = next(index for index, line in enumerate(rest) if line.split()[0] != rest[0].split()[0])
    return rest, other + 1, "without the clone, fork or vfork"


def _a_json_line_among_them(lines: list[str]) -> tuple[list[str], int, str]:
    at = len(lines) // 2
    event = json.dumps({"seq": 1, "pid": 1, "tid": 1, "role": "main", "type": "exit", "code": 0})
    return [*lines[:at], event, *lines[at:]], at + 1, "as strace -f output"


def _a_line_without_a_pid(lines: list[str]) -> tuple[list[str], int, str]:
    at = _index(lines, r"<\.\.\. accept resumed>")
    stray = "close(3)                          = 0"  # stderr's form, in a log strace -f -o wrote
    return [*lines[:at], stray, *lines[at:]], at + 1, "a line without a pid"


BREAKS = {
    "cut in a line": _cut_in_a_line,
    "a call resumed without its start": _resumed_without_its_start,
    "cut at its start": _cut_at_its_start,
    "a JSON line among strace's": _a_json_line_among_them,
    "a line without a pid among lines with one": _a_line_without_a_pid,
}


@pytest.mark.parametrize("command", ["show", "explain", "report", "check"])
@pytest.mark.parametrize("breaking", BREAKS.values(), ids=BREAKS.keys())
def test_a_broken_log_is_one_line_naming_its_line(
    breaking: Callable[[list[str]], tuple[list[str], int, str]],
    command: str,
    real_log: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines, number, what = breaking(real_log)
    log = tmp_path / "broken.log"
    log.write_text("\n".join(lines) + "\n")
    argv = {
        "show": ["show", str(log)],
        "explain": ["explain", str(log)],
        "report": ["report", str(log), "-o", str(tmp_path / "report.html")],
        "check": ["check", str(EXPECTATIONS / "fork_sigchld.expect.yaml"), "--trace", str(log)],
    }[command]

    status = main(argv)

    err = capsys.readouterr().err
    assert status == 65
    assert "Traceback" not in err
    messages = [line for line in err.splitlines() if line.startswith("harness:")]
    assert len(messages) == 1, err
    assert messages[0].startswith(f"harness: {log}:{number}: "), messages[0]
    assert what in messages[0]
    assert not (tmp_path / "report.html").exists()
