"""`harness show` with strace's time options: -tt, -r and -T on a saved trace, and a trace without times."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.faces.cli import main
from harness.model.events import ExitEvent, SyscallEvent
from harness.model.record import replace
from harness.model.trace import Trace

CLOSE = SyscallEvent(seq=2, pid=7, tid=7, role="main", name="close", args={"fd": 3}, ret=0, errno=None, enter_seq=1)


def write(path: Path, *events: SyscallEvent | ExitEvent) -> Path:
    with path.open("w") as stream:
        Trace(events).write_jsonl(stream)
    return path


def test_show_prints_the_times_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    timed = write(
        tmp_path / "timed.jsonl",
        replace(CLOSE, time=0.5, duration=0.25, start_realtime=100.0),
        ExitEvent(seq=3, pid=7, tid=7, role="main", code=0, time=0.75),
    )
    assert main(["show", "-ttt", "-T", str(timed)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "[pid 7 main] 100.250000 close(3) = 0 <0.250000>",
        "[pid 7 main] 100.750000 +++ exited with 0 +++",
    ]
    assert main(["show", "-r", str(timed)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "[pid 7 main]      0.500000 +++ exited with 0 +++"


def test_a_trace_without_times_prints_without_them_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.jsonl", CLOSE)
    assert main(["show", "-tt", "-T", str(old)]) == 0
    out, err = capsys.readouterr()
    assert out == "[pid 7 main] close(3) = 0\n"
    assert err == f"harness: {old} holds no times (recorded before the tracer kept them); -t, -r and -T show nothing\n"


def test_a_trace_without_a_time_of_day_says_that_t_shows_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timed = write(tmp_path / "by-hand.jsonl", replace(CLOSE, time=0.5, duration=0.25))
    assert main(["show", "-tt", "-T", str(timed)]) == 0
    out, err = capsys.readouterr()
    assert out == "[pid 7 main] close(3) = 0 <0.250000>\n"
    assert "holds no time of day (no start_realtime" in err and "-r and -T still do" in err
