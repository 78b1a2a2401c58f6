"""``harness show`` and ``explain`` of a crafted trace print its control characters escaped, never raw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.faces.cli import main

#: A terminal escape (clear the screen) and a bell, hidden in a role name and a call's argument.
ESCAPE = "\x1b[2J\x07"


def _crafted(tmp_path: Path) -> Path:
    events = [
        {"seq": 1, "pid": 10, "tid": 10, "role": f"main{ESCAPE}", "type": "syscall", "name": "close",
         "args": {"fd": 3}, "ret": 0, "errno": None, "enter_seq": 1},
        {"seq": 2, "pid": 10, "tid": 10, "role": f"main{ESCAPE}", "type": "exit", "code": 0, "signal": None,
         "core_dumped": False},
    ]  # fmt: skip
    path = tmp_path / "crafted.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


@pytest.mark.parametrize("command", ["show", "explain"])
def test_control_characters_of_a_crafted_trace_are_printed_escaped(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([command, str(_crafted(tmp_path))])
    out = capsys.readouterr().out
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out
    if command == "show":
        assert "[pid 10 main\\x1b[2J\\x07] close(3) = 0" in out
