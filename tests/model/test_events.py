from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.model import record
from harness.model.events import (
    Event,
    ExecEvent,
    ExitEvent,
    SignalEvent,
    SpawnEvent,
    SyscallEntry,
    SyscallEvent,
    TraceFormatError,
    build_exec_event,
    build_exit_event,
    build_signal_event,
    build_spawn_event,
    build_syscall_entry,
    build_syscall_event,
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
    assert "from_harness" not in event_to_dict(EVENTS[2])


def test_a_signal_from_the_harness_says_so_in_its_json_form() -> None:
    stop = SignalEvent(
        seq=12,
        pid=10,
        tid=10,
        role="main",
        name="SIGTERM",
        siginfo={"si_signo": "SIGTERM", "si_code": "SI_USER", "si_pid": 1, "si_uid": 0},
        from_harness=True,
    )
    assert event_to_dict(stop)["from_harness"] is True
    assert event_from_dict(event_to_dict(stop)) == stop


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object, got list"),
        ({"type": "syscal"}, "unknown event type 'syscal'"),
        ({"type": "exit", "seq": 1, "pid": 1, "tid": 1}, "exit event lacks the key 'role'"),
        ({"type": "exit", "seq": True, "pid": 1, "tid": 1, "role": "main"}, "key 'seq' must be int, got True"),
        ({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "colour": 1}, "unknown key 'colour'"),
        ({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "name": "x"}, "exit event:"),
        # Times a renderer cannot show (-t: time.localtime fails past year 9999) are refused when read, not later.
        (
            {"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "code": 0, "start_realtime": 1e17},
            r"key 'start_realtime' must be a number of seconds from 0 to 253402300799, got 1e\+17",
        ),
        (
            {"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "code": 0, "time": 1e300},
            "key 'time' must be a number of seconds from 0 to 1000000000",
        ),
    ],
)
def test_malformed_objects_are_rejected_with_a_reason(data: object, message: str) -> None:
    with pytest.raises(TraceFormatError, match=message.replace("(", r"\(")):
        event_from_dict(data)


TIMED: list[Event] = [
    ExecEvent(seq=1, pid=10, tid=10, role="main", filename="/bin/true", time=0.001234, start_realtime=1764584244.5),
    SyscallEvent(
        seq=3,
        pid=10,
        tid=10,
        role="main",
        name="wait4",
        args={"pid": -1},
        ret=11,
        errno=None,
        enter_seq=2,
        time=0.2105,
        duration=0.200001,
    ),
    ExitEvent(seq=4, pid=10, tid=10, role="main", code=0, time=0.2106),
]


@pytest.mark.parametrize("event", TIMED, ids=lambda event: event.type)
def test_times_survive_the_json_form(event: Event) -> None:
    assert event_from_dict(event_to_dict(event)) == event


def test_times_are_keys_only_where_they_are_known() -> None:
    assert event_to_dict(TIMED[0])["start_realtime"] == 1764584244.5
    assert event_to_dict(TIMED[1])["duration"] == 0.200001
    assert "start_realtime" not in event_to_dict(TIMED[1])
    assert not {"time", "duration", "start_realtime"} & set(event_to_dict(EVENTS[0]))  # an old trace's event


def test_a_whole_number_of_seconds_is_read_as_seconds() -> None:
    event = event_from_dict({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "code": 0, "time": 2})
    assert event.time == 2.0 and isinstance(event.time, float)


@pytest.mark.parametrize(
    ("key", "value"), [("time", -0.5), ("time", float("nan")), ("time", float("inf")), ("time", 10**400), ("time", "1")]
)
def test_a_time_that_is_no_number_of_seconds_is_rejected(key: str, value: object) -> None:
    with pytest.raises(TraceFormatError, match=f"key '{key}' must be"):
        event_from_dict({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "code": 0, key: value})


def test_only_a_call_has_a_duration() -> None:
    with pytest.raises(TraceFormatError, match="exit event:"):
        event_from_dict({"type": "exit", "seq": 1, "pid": 1, "tid": 1, "role": "main", "code": 0, "duration": 1.0})


#: The interrupted accept4 of EVENTS, typed as what it is.
_ACCEPT = SyscallEvent(
    seq=5, pid=10, tid=10, role="main", name="accept4", args={"fd": 3}, ret=-512, errno="ERESTARTSYS", enter_seq=2
)


def _every_field(event: Event | SyscallEntry) -> dict[str, object]:
    return {item.name: getattr(event, item.name) for item in record.fields(event)}


#: The tracer's builder of each kind of event.
_BUILDERS: dict[type, Callable[..., Event | SyscallEntry]] = {
    SyscallEvent: build_syscall_event,
    SyscallEntry: build_syscall_entry,
    SignalEvent: build_signal_event,
    SpawnEvent: build_spawn_event,
    ExecEvent: build_exec_event,
    ExitEvent: build_exit_event,
}


@pytest.mark.parametrize(
    "event",
    [
        *EVENTS,
        record.replace(_ACCEPT, time=1.5, duration=0.25, injected=True, start_realtime=1e9),
        SyscallEntry(seq=3, pid=10, tid=11, role="main", time=0.5, start_realtime=1e9, name="close", args={"fd": 4}),
    ],
    ids=lambda event: type(event).__name__,
)
def test_a_built_event_equals_the_one_its_class_builds_and_stays_frozen(event: Event | SyscallEntry) -> None:
    built = _BUILDERS[type(event)](**_every_field(event))
    assert type(built) is type(event)
    assert built == event
    assert repr(built) == repr(event)
    with pytest.raises(record.FrozenRecordError):
        built.seq = 99  # type: ignore[misc]


def test_a_builder_takes_every_field_by_keyword_and_names_a_missing_one() -> None:
    fields = _every_field(_ACCEPT)
    del fields["duration"]
    with pytest.raises(TypeError, match=r"build_SyscallEvent.*'duration'"):
        build_syscall_event(**fields)
    with pytest.raises(TypeError):
        build_syscall_event(*_every_field(_ACCEPT).values())
