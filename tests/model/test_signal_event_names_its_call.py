"""A signal event names the call its task was in: in JSON Lines only when known, read back unchanged."""

from __future__ import annotations

import pytest

from harness.model.events import SignalEvent, TraceFormatError, event_from_dict, event_to_dict
from harness.model.strace_format import format_event


def _signal(syscall: str | None = None, syscall_errno: str | None = None) -> SignalEvent:
    return SignalEvent(
        seq=7,
        pid=100,
        tid=100,
        role="main",
        name="SIGUSR1",
        siginfo={"si_signo": "SIGUSR1"},
        syscall=syscall,
        syscall_errno=syscall_errno,
    )


def test_the_interrupted_call_and_its_restart_code_round_trip_through_json() -> None:
    event = _signal("pause", "ERESTARTNOHAND")
    data = event_to_dict(event)
    assert (data["syscall"], data["syscall_errno"]) == ("pause", "ERESTARTNOHAND")
    assert event_from_dict(data) == event


def test_a_signal_between_calls_writes_neither_key_and_older_traces_still_load() -> None:
    data = event_to_dict(_signal())
    assert "syscall" not in data and "syscall_errno" not in data
    assert event_from_dict(data) == _signal()


def test_the_text_trace_stays_strace_s_line() -> None:
    named = _signal("pause", "ERESTARTNOHAND")
    assert format_event(named) == format_event(_signal())
    assert "pause" not in format_event(named)


def test_a_call_key_on_another_event_is_refused() -> None:
    with pytest.raises(TraceFormatError):
        event_from_dict({"seq": 1, "pid": 1, "tid": 1, "role": "main", "type": "exit", "code": 0, "syscall": "pause"})
