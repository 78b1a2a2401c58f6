"""A run's verdict with a stop signal: ok when the server ends on its stop signal or exits 0, in its grace (no run)."""

from __future__ import annotations

import pytest

from harness.model.events import SyscallEvent
from harness.model.frames import Frame
from harness.model.scenario import Stop
from harness.model.trace import Trace
from harness.running.clients import ClientReport
from harness.running.run_result import RunResult


def _ended(
    *, code: int | None, killed: str | None, sent: bool, grace_expired: bool = False
) -> RunResult:  # a RunResult as run_server builds it, for the verdict alone
    return RunResult(
        Trace(()), ClientReport(3, 3, ()), "", code, killed, False, None, Stop("SIGTERM"), sent, grace_expired
    )


@pytest.mark.parametrize(
    ("code", "killed", "sent", "grace_expired", "ok"),
    [
        (None, "SIGTERM", True, False, True),  # killed by the very signal it was sent
        (0, None, True, False, True),  # a handler that shut it down cleanly
        (0, None, False, False, True),  # it exited by itself before the stop was due
        (None, "SIGKILL", True, True, False),  # still running at the end of the grace
        (0, None, True, True, False),  # its main process exited, a worker outlived the grace
        (None, "SIGTERM", False, False, False),  # killed by SIGTERM, but not the harness's
        (None, "SIGINT", True, False, False),  # killed by another signal
        (1, None, True, False, False),  # exited with an error after the stop
        (143, None, True, False, True),  # exited 128+SIGTERM after SIGTERM, as socat and shells do
    ],
)
def test_a_stopped_server_is_ok_when_it_ends_on_its_stop_signal_or_exits_0(
    code: int | None, killed: str | None, sent: bool, grace_expired: bool, ok: bool
) -> None:
    assert _ended(code=code, killed=killed, sent=sent, grace_expired=grace_expired).ok is ok


def test_where_a_task_was_blocked_names_its_python_code_when_the_frames_were_read() -> None:
    serve = Frame(file="/srv/myserver.py", line=41, function="serve")
    blocked = [
        SyscallEvent(
            seq=1,
            pid=1,
            tid=1,
            role="main",
            name="accept4",
            args={"fd": 3},
            ret=None,
            errno=None,
            enter_seq=1,
            python=(serve,),
        ),
        SyscallEvent(
            seq=2, pid=2, tid=2, role="main.1", name="wait4", args={"pid": -1}, ret=None, errno=None, enter_seq=2
        ),
    ]
    result = RunResult(
        Trace(tuple(blocked)), ClientReport(3, 3, ()), "", None, "SIGKILL", True, None, Stop("SIGTERM"), False, False
    )
    assert result.blocked() == {"main": "accept4(3, ...) at myserver.py:41 in serve", "main.1": "wait4(-1, ...)"}
