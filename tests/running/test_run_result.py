"""A run's verdict with a stop signal: ok when the server ends on its stop signal or exits 0, in its grace (no run)."""

from __future__ import annotations

import pytest

from harness.model.scenario import Stop
from harness.model.trace import Trace
from harness.running.clients import ClientReport
from harness.running.run import RunResult


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
    ],
)
def test_a_stopped_server_is_ok_when_it_ends_on_its_stop_signal_or_exits_0(
    code: int | None, killed: str | None, sent: bool, grace_expired: bool, ok: bool
) -> None:
    assert _ended(code=code, killed=killed, sent=sent, grace_expired=grace_expired).ok is ok
