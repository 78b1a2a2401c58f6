from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from test_events import EVENTS

from harness.model.trace import Trace, TraceFileError


def _sorted_trace() -> Trace:
    return Trace(tuple(sorted(EVENTS, key=lambda event: event.seq)))


def test_jsonl_round_trip(tmp_path: Path) -> None:
    trace = _sorted_trace()
    buffer = io.StringIO()
    trace.write_jsonl(buffer)
    path = tmp_path / "trace.jsonl"
    path.write_text(buffer.getvalue())

    assert Trace.read_jsonl(path) == trace
    assert len(buffer.getvalue().splitlines()) == len(trace)


def test_queries_by_role_and_pid() -> None:
    trace = _sorted_trace()
    assert trace.roles() == ["main", "main.1"]
    assert [event.seq for event in trace.for_role("main.1")] == [9, 10]
    assert trace.role_of_pid(11) == "main.1"
    assert trace.role_of_pid(99) is None
    exit_of_main = trace.exit_of("main")
    assert exit_of_main is not None and exit_of_main.signal == "SIGKILL"


def test_outline_is_free_of_pids_and_arguments() -> None:
    assert _sorted_trace().outline() == {
        "main": ["exec", "spawn main.1", "accept4 -> ERESTARTSYS", "--- SIGCHLD", "+++ killed SIGKILL"],
        "main.1": ["exit_group", "+++ exited 0"],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('\n{"seq": 1,\n', "t.jsonl:2: not JSON: "),
        ('{"seq": 1, "pid": 1, "tid": 1, "role": "main", "type": "exit"}\n[1]\n', "t.jsonl:2: expected a JSON object"),
    ],
)
def test_a_broken_file_names_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(text)
    with pytest.raises(TraceFileError, match=message):
        Trace.read_jsonl(path)


def test_a_missing_file_is_a_trace_file_error(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="cannot read the trace: No such file"):
        Trace.read_jsonl(tmp_path / "nope.jsonl")


def test_deeply_nested_or_huge_json_is_refused_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("[" * 100000 + "\n")
    with pytest.raises(TraceFileError, match=r"t\.jsonl:1: not JSON"):
        Trace.read_jsonl(path)
    path.write_text('{"seq": ' + "9" * 5000 + "}\n")
    with pytest.raises(TraceFileError, match=r"t\.jsonl:1: not JSON this reader accepts"):
        Trace.read_jsonl(path)


@pytest.mark.parametrize("kind", ["a device that never ends", "a FIFO nobody writes", "a directory"])
def test_a_trace_that_is_no_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """``/dev/zero`` was read until memory ran out, and a FIFO blocked for ever."""
    if kind == "a device that never ends":
        path = Path("/dev/zero")
    elif kind == "a FIFO nobody writes":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    else:
        path = tmp_path
    with pytest.raises(TraceFileError, match=r"cannot read the trace: (not a regular file|it is a directory)"):
        Trace.read_jsonl(path)
