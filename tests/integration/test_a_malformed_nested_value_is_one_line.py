"""A trace whose nested values break the event contract is refused in one line by every command that reads it.

The cases are the issue's (a ``close`` fd ``[1, 2]``, an ``rt_sigaction`` mask
``3``, an ``accept4`` address without a port, an ``argv`` of numbers), each
read by ``show``, ``explain``, ``report``, ``diff`` and ``check --trace``:
status 65, one ``harness:`` line naming the file, the line and the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.nested_trace import NESTED
from support.programs import EXPECTATIONS

from harness.faces.cli import main


def _first(name: str) -> int:
    return next(index for index, event in enumerate(NESTED) if event.get("name", event["type"]) == name)


def _set(path: tuple[str, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        holder = event
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = value

    return change


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        holder = event
        for step in path[:-1]:
            holder = holder[step]
        del holder[path[-1]]

    return change


CASES = {
    "close fd [1, 2]": ("close", _set(("args", "fd"), [1, 2]), "args.fd must be an integer, got [1, 2]"),
    "rt_sigaction mask 3": (
        "rt_sigaction",
        _set(("args", "act", "mask"), 3),
        "args.act.mask must be a list of strings, got 3",
    ),
    "accept4 address without a port": (
        "accept4",
        _drop(("args", "addr", "port")),
        # An address cut short by the caller's buffer is the family alone; with an address, its port is due.
        "args.addr must be an object with 'family', 'port', 'address' or an object with 'family', "
        "got {'family': 'AF_INET', 'address': '127.0.0.1'}",
    ),
    "argv of numbers": ("exec", _set(("argv",), [1, 2]), "argv[0] must be a string, got 1"),
}
COMMANDS = {
    "show": ["show", "{bad}"],
    "explain": ["explain", "{bad}"],
    "report": ["report", "{bad}", "-o", "{tmp}/r.html"],
    "diff": ["diff", "{good}", "{bad}"],
    "check --trace": ["check", "--trace", "{bad}", str(EXPECTATIONS / "fork_sigchld.expect.yaml")],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_nested_value_is_refused_with_its_line_and_key(
    case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, change, message = CASES[case]
    index = _first(name)
    events = json.loads(json.dumps(NESTED))
    change(events[index])
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("".join(json.dumps(event) + "\n" for event in NESTED))
    bad.write_text("".join(json.dumps(event) + "\n" for event in events))
    argv = [word.format(good=good, bad=bad, tmp=tmp_path) for word in COMMANDS[command]]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 65, err
    assert err == f"harness: {bad}:{index + 1}: {message}\n"
    assert not (tmp_path / "r.html").exists()
