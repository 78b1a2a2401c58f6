"""A signal event names the call its task was in: in JSON Lines only when known, read back unchanged."""

from __future__ import annotations

import pytest

from harness.model.events import SignalEvent, TraceFormatError, event_from_dict, event_to_dict
from harness.model.strace_format import format_event

BASE = {"seq": 7, "pid": 100, "tid": 100, "role": "main", "name": "SIGUSR1", "siginfo": {"si_signo": "SIGUSR1"}}


def test_the_interrupted_call_and_its_restart_code_round_trip_through_json() -> None:
    event = SignalEvent(**BASE, syscall="pause", syscall_errno="ERESTARTNOHAND")
    data = event_to_dict(event)
    assert (data["syscall"], data["syscall_errno"]) == ("pause", "ERESTARTNOHAND")
    assert event_from_dict(data) == event


def test_a_signal_between_calls_writes_neither_key_and_older_traces_still_load() -> None:
    data = event_to_dict(SignalEvent(**BASE))
    assert "syscall" not in data and "syscall_errno" not in data
    assert event_from_dict(data) == SignalEvent(**BASE)


def test_the_text_trace_stays_strace_s_line() -> None:
    named = SignalEvent(**BASE, syscall="pause", syscall_errno="ERESTARTNOHAND")
    assert format_event(named) == format_event(SignalEvent(**BASE))
    assert "pause" not in format_event(named)


def test_a_call_key_on_another_event_is_refused() -> None:
    with pytest.raises(TraceFormatError):
        event_from_dict({"seq": 1, "pid": 1, "tid": 1, "role": "main", "type": "exit", "code": 0, "syscall": "pause"})
