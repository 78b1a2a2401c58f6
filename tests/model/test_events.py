from __future__ import annotations

import pytest

from harness.model.events import (
    Event,
    ExecEvent,
    ExitEvent,
    SignalEvent,
    SpawnEvent,
    SyscallEvent,
    TraceFormatError,
    event_from_dict,
    event_to_dict,
)

EVENTS: list[Event] = [
    SyscallEvent(
        seq=5,
        pid=10,
        tid=10,
        role="main",
        name="accept4",
        args={"fd": 3, "flags": []},
        ret=-512,
        errno="ERESTARTSYS",
        enter_seq=2,
    ),
    SyscallEvent(
        seq=9, pid=11, tid=11, role="main.1", name="exit_group", args={"status": 0}, ret=None, errno=None, enter_seq=8
    ),
    SignalEvent(
        seq=6,
        pid=10,
        tid=10,
        role="main",
        name="SIGCHLD",
        siginfo={"si_signo": "SIGCHLD", "si_code": "CLD_EXITED", "si_pid": 11, "si_uid": 0, "si_status": 0},
    ),
    SpawnEvent(
        seq=3, pid=10, tid=10, role="main", child_pid=11, child_tid=11, child_role="main.1", via="clone", thread=False
    ),
    ExecEvent(seq=1, pid=10, tid=10, role="main", filename="/usr/bin/python3", argv=("python3", "-c", "pass")),
    ExitEvent(seq=10, pid=11, tid=11, role="main.1", code=0),
    ExitEvent(seq=11, pid=10, tid=10, role="main", signal="SIGKILL"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type)
def test_every_event_survives_its_json_form(event: Event) -> None:
    assert event_from_dict(event_to_dict(event)) == event


def test_json_form_has_the_documented_keys() -> None:
    assert list(event_to_dict(EVENTS[0])) == [
        "seq",
        "pid",
        "tid",
        "role",
        "type",
        "name",
        "args",
        "ret",
        "errno",
        "enter_seq",
    ]
    assert event_to_dict(EVENTS[5]) == {"seq": 10, "pid": 11, "tid": 11, "role": "main.1", "type": "exit", "code": 0}
    assert event_to_dict(EVENTS[6])["signal"] == "SIGKILL"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object, got list"),
        ({"type": "syscal"}, "unknown event type 'syscal'"),
        ({"type": "exit", "seq": 1, "pid": 1, "tid": 1}, "exit event lacks the key 'role'"),
        ({"type": "exit", "seq": True, "pid": 1, "tid": 1, "role": "main"}, "key 'seq' must be int, got True"),
        ({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "colour": 1}, "unknown key 'colour'"),
        ({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "name": "x"}, "exit event:"),
    ],
)
def test_malformed_objects_are_rejected_with_a_reason(data: object, message: str) -> None:
    with pytest.raises(TraceFormatError, match=message.replace("(", r"\(")):
        event_from_dict(data)
