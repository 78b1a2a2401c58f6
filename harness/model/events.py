"""The values a trace is made of: one frozen event per thing the kernel did.

Events are plain data, decoupled from ptrace, so that everything downstream
of the tracer (expectations, explanations, reports, diffs) can be written and
tested with hand-built events.  Each event records its place in the global
order of the run (``seq``); a system call also records where it was entered
(``enter_seq``), so that interleavings of blocking calls across processes can
be rebuilt from the trace alone.  Each event also records when it happened
(``time``, and a call's ``duration``), from the monotonic clock; order
questions are answered by ``seq``, which no clock can tie or reverse.

The JSON Lines form produced by :func:`event_to_dict` is the contract every
later part of the project reads; it is documented in docs/reference/jsonl.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from harness.model.record import field, fields, record, slot_setter

if TYPE_CHECKING:  # frames are read and written by the runs that have them (--python-frames)
    from harness.model.frames import Stack
    from harness.model.kernel_abi import ForeignAbi

#: A decoded argument: JSON-like data (ints, strings, lists, dicts, None).
ArgValue = Any

_E = TypeVar("_E", bound="_TaskEvent")


@record(kw_only=True)
class _TaskEvent:
    """What every event says: where it is in the run's order, which task it is of, and when.

    Events are records (:mod:`harness.model.record`), not dataclasses: the
    tracer imports them before its first stop.
    """

    seq: int
    """Place in the global order of the run, counted from 1 across all tasks."""
    pid: int
    """Thread group id: the process, as ``getpid()`` reports it."""
    tid: int
    """Task id: the thread, as ``gettid()`` reports it (equal to pid for the main thread)."""
    role: str
    """Symbolic name of the task, stable across runs (see harness.model.roles)."""
    time: float | None = None
    """Seconds since the traced command started (monotonic clock, µs resolution) at the stop that
    made this event (a call's exit, or its entry for a :class:`SyscallEntry`); None in a trace
    recorded before times were kept."""
    start_realtime: float | None = None
    """On the first event of a run only: CLOCK_REALTIME (seconds since the Unix epoch) at time 0,
    the anchor that turns ``time`` into a wall-clock time (``-tt``)."""


@record(kw_only=True)
class SyscallEvent(_TaskEvent):
    """A traced system call, from its entry to its return (or to the task's end)."""

    type: ClassVar[str] = "syscall"
    name: str
    """The kernel's name of the call (``accept4``, ``wait4``)."""
    args: Mapping[str, ArgValue] = field(default_factory=dict)
    """Decoded arguments by name; output arguments only when the call wrote them."""
    ret: int | None
    """The raw value the kernel returned (``-512`` for ERESTARTSYS), None if it never returned."""
    errno: str | None
    """Symbolic error for a negative ``ret``, including the restart codes only a tracer sees."""
    enter_seq: int
    """Place in the global order at which the call was entered."""
    injected: bool = False
    """The harness made this call fail (``--inject``): the kernel never ran it."""
    python: Stack | None = None
    """The calling thread's Python stack, innermost first, read at the call's entry (``--python-frames``);
    None when not read, or when the task runs no Python code there."""
    duration: float | None = None
    """Seconds from the call's entry to its exit (``time`` is the exit's); for a call that never
    returned, to the task's end.  None in a trace recorded before times were kept."""
    abi: ForeignAbi | None = None
    """The other ABI a 64-bit program made this call through: ``i386`` (``int $0x80``) or ``x32``; None
    for an x86_64 call.  Its name is that ABI's, as strace prints it; its arguments are the raw
    registers, under the names of the call's prototype (``arg1`` to ``arg6`` for a call the x86_64
    table lacks): the catalogue decodes x86_64 calls only, the other ABIs' structures having other
    layouts."""


@record(kw_only=True)
class SignalEvent(_TaskEvent):
    """A signal-delivery stop: the signal about to be delivered to the task, unchanged."""

    type: ClassVar[str] = "signal"
    name: str
    """Signal name, ``SIGCHLD``."""
    siginfo: Mapping[str, ArgValue] = field(default_factory=dict)
    """Decoded siginfo: ``si_signo``, ``si_code`` (symbolic) and the members that code defines."""
    injected: bool = False
    """The harness sent this signal (``--inject``)."""
    from_harness: bool = False
    """The harness's own process sent it (si_pid is the harness's pid): an injected signal, or the stop signal
    it sends after the clients; so a reader can say "sent by the harness", not a pid nobody knows."""
    syscall: str | None = None
    """The call the task was in, or returning from, when the signal was delivered (``orig_rax`` at the
    signal-delivery-stop), traced or not; None between calls, or when the tracer did not read it."""
    syscall_errno: str | None = None
    """What that call was returning then (``rax``) when it was an error: a restart code such as
    ERESTARTSYS says the signal interrupted it; None when it succeeded or was not in a call."""
    python: Stack | None = None
    """The calling thread's Python stack, innermost first, read at the signal-delivery stop (``--python-frames``);
    None when not read, or when the task runs no Python code there."""


@record(kw_only=True)
class SpawnEvent(_TaskEvent):
    """A task created a new process or thread; pid/tid/role are the creator's."""

    type: ClassVar[str] = "spawn"
    child_pid: int
    child_tid: int
    child_role: str
    via: str
    """The call that created it: ``fork``, ``vfork``, ``clone`` or ``clone3``."""
    thread: bool
    """True when the new task shares the creator's thread group (CLONE_THREAD)."""
    python: Stack | None = None
    """The calling thread's Python stack, innermost first, read in the creator at its fork or clone
    (``--python-frames``);
    None when not read, or when the task runs no Python code there."""


@record(kw_only=True)
class ExecEvent(_TaskEvent):
    """A task replaced its program with execve; recorded at the first instruction of the new one."""

    type: ClassVar[str] = "exec"
    filename: str
    argv: tuple[str, ...] = ()
    fds: tuple[int, ...] | None = None
    """The descriptors the process holds once the exec is done: the kernel has closed the close-on-exec
    ones by then (fs/exec.c: begin_new_exec calls do_close_on_exec before exec_binprm reports
    PTRACE_EVENT_EXEC), so a descriptor held before and missing here was closed by this exec.
    None where it could not be read (``/proc`` gone, or a trace recorded before it was kept)."""
    former_tid: int | None = None
    """The thread that called execve, when it was not the process's leader; None when it was.

    execve(2), "All threads other than the thread group leader are destroyed" and the caller
    takes the leader's thread id: the event is the leader's (``tid`` is the pid), the former
    thread's tid ends here, and so does the leader's own thread, "superseded by execve" in strace's
    words.  The process, its role and its descriptors go on with the new program."""


@record(kw_only=True)
class ExitEvent(_TaskEvent):
    """A task ended: with an exit code, or killed by a signal."""

    type: ClassVar[str] = "exit"
    code: int | None = None
    """Exit code when the task exited."""
    signal: str | None = None
    """Name of the signal that killed it, when it was killed."""
    core_dumped: bool = False


Event = SyscallEvent | SignalEvent | SpawnEvent | ExecEvent | ExitEvent
EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.type: cls for cls in (SyscallEvent, SignalEvent, SpawnEvent, ExecEvent, ExitEvent)
}


@record(kw_only=True)
class SyscallEntry(_TaskEvent):
    """A traced call that has just been entered: a point in the live stream, not a trace event.

    The text renderer needs it to print ``<unfinished ...>`` lines while the
    call blocks; the trace itself only keeps the completed :class:`SyscallEvent`.
    """

    name: str
    args: Mapping[str, ArgValue] = field(default_factory=dict)
    """The arguments known at entry: the input ones."""
    python: Stack | None = None
    """The Python stack at entry (``--python-frames``), as the finished call will have it."""
    abi: ForeignAbi | None = None
    """The other ABI of a 64-bit program's call through ``int $0x80`` or the x32 bit (see SyscallEvent)."""


#: Receives each entry and each completed event of a live run, as it happens.
Listener = Callable[[SyscallEntry | Event], None]


def _builder(cls: type[_E]) -> Callable[..., _E]:
    """A constructor of ``cls`` taking every field by keyword, for the tracer's hot path.

    A record's ``__init__`` sets the slots through their member descriptors as
    this does, but through ``type.__call__`` and with its defaults to fill:
    building the tracer's events with the classes themselves costs 6k
    instructions more per traced call (93.0k against 87.1k for a
    ``close(-1)``, ``bench/instructions.py``).  Every field is required (no
    defaults to fill), so what it builds equals what ``cls(**same)`` builds;
    it is written out once per class.
    """
    name = f"build_{cls.__name__}"
    names = [item.name for item in fields(cls)]
    namespace: dict[str, object] = {f"_set_{field_name}": slot_setter(cls, field_name) for field_name in names}
    namespace.update(_new=object.__new__, _cls=cls)
    body = "".join(f"    _set_{field_name}(event, {field_name})\n" for field_name in names)
    exec(f"def {name}(*, {', '.join(names)}):\n    event = _new(_cls)\n{body}    return event\n", namespace)
    built: Callable[..., _E] = namespace[name]  # type: ignore[assignment]
    built.__doc__ = f"A {cls.__name__} from every one of its fields, by keyword (see :func:`_builder`)."
    return built


#: How the tracer builds every event it records, cheaply (see :func:`_builder`).
build_syscall_event = _builder(SyscallEvent)
build_syscall_entry = _builder(SyscallEntry)
build_signal_event = _builder(SignalEvent)
build_spawn_event = _builder(SpawnEvent)
build_exec_event = _builder(ExecEvent)
build_exit_event = _builder(ExitEvent)


class TraceFormatError(ValueError):
    """A JSON object that is not a valid trace event."""


def event_to_dict(event: Event) -> dict[str, Any]:
    """Turn an event into the JSON object of the documented JSON Lines format."""
    data: dict[str, Any] = {
        "seq": event.seq,
        "pid": event.pid,
        "tid": event.tid,
        "role": event.role,
        "type": event.type,
    }
    if event.time is not None:
        data["time"] = event.time
    if event.start_realtime is not None:
        data["start_realtime"] = event.start_realtime
    match event:
        case SyscallEvent():
            data.update(
                name=event.name,
                args=dict(event.args),
                ret=event.ret,
                errno=event.errno,
                enter_seq=event.enter_seq,
            )
            if event.injected:
                data["injected"] = True
            if event.duration is not None:
                data["duration"] = event.duration
            if event.abi is not None:
                data["abi"] = event.abi
        case SignalEvent():
            data.update(name=event.name, siginfo=dict(event.siginfo))
            if event.injected:
                data["injected"] = True
            if event.from_harness:
                data["from_harness"] = True
            if event.syscall is not None:
                data.update(syscall=event.syscall, syscall_errno=event.syscall_errno)
        case SpawnEvent():
            data.update(
                child_pid=event.child_pid,
                child_tid=event.child_tid,
                child_role=event.child_role,
                via=event.via,
                thread=event.thread,
            )
        case ExecEvent():
            data.update(filename=event.filename, argv=list(event.argv))
            if event.fds is not None:
                data["fds"] = list(event.fds)
            if event.former_tid is not None:
                data["former_tid"] = event.former_tid
        case ExitEvent():
            if event.signal is None:
                data.update(code=event.code)
            else:
                data.update(signal=event.signal, core_dumped=event.core_dumped)
    if not isinstance(event, ExecEvent | ExitEvent) and event.python is not None:
        from harness.model.frames import stack_to_json

        data["python"] = stack_to_json(event.python)
    return data


#: Every key an event's JSON object may have besides ``type``, with the JSON types it accepts.
FIELD_TYPES: Mapping[str, tuple[type, ...]] = {
    "seq": (int,),
    "pid": (int,),
    "tid": (int,),
    "role": (str,),
    "name": (str,),
    "args": (dict,),
    "ret": (int, type(None)),
    "errno": (str, type(None)),
    "enter_seq": (int,),
    "siginfo": (dict,),
    "child_pid": (int,),
    "child_tid": (int,),
    "child_role": (str,),
    "via": (str,),
    "thread": (bool,),
    "filename": (str,),
    "argv": (list,),
    "fds": (list,),
    "former_tid": (int,),
    "code": (int, type(None)),
    "signal": (str, type(None)),
    "core_dumped": (bool,),
    "injected": (bool,),
    "from_harness": (bool,),
    "syscall": (str, type(None)),
    "syscall_errno": (str, type(None)),
    "python": (list,),
    "time": (float, int),
    "start_realtime": (float, int),
    "duration": (float, int),
    "abi": (str,),
}

#: The keys that hold seconds (times are optional: a trace from before they were kept has none).
_SECONDS = frozenset({"time", "start_realtime", "duration"})

_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "syscall": ("name", "ret", "errno", "enter_seq"),
    "signal": ("name",),
    "spawn": ("child_pid", "child_tid", "child_role", "via", "thread"),
    "exec": ("filename",),
    "exit": (),
}


#: The largest value each time key may hold: a time of day up to the end of year 9999 (what a calendar, and
#: ``time.localtime``, can show: -t and -tt print it), a run's times and durations up to about 31.7 years.
_MAX_SECONDS: Mapping[str, float] = {"start_realtime": 253402300799.0, "time": 1e9, "duration": 1e9}


def _seconds(key: str, value: Any) -> float:
    """A time or a duration read from JSON: a finite number of seconds in [0, the key's bound], as a float."""
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not (math.isfinite(seconds) and 0 <= seconds <= _MAX_SECONDS[key]):
        raise TraceFormatError(
            f"key {key!r} must be a number of seconds from 0 to {_MAX_SECONDS[key]:.0f}, got {value!r}"
        )
    return seconds


def event_from_dict(data: Any) -> Event:
    """Build an event from one JSON Lines object, rejecting anything malformed."""
    if not isinstance(data, dict):
        raise TraceFormatError(f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        known = ", ".join(EVENT_TYPES)
        raise TraceFormatError(f"unknown event type {kind!r}; expected one of {known}")
    for key in ("seq", "pid", "tid", "role", *_REQUIRED[kind]):
        if key not in data:
            raise TraceFormatError(f"{kind} event lacks the key {key!r}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "type":
            continue
        expected = FIELD_TYPES.get(key)
        if expected is None:
            raise TraceFormatError(f"unknown key {key!r} in a {kind} event")
        # bool is an int in Python; a JSON true is no seq number.
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in expected)
            raise TraceFormatError(f"key {key!r} must be {names}, got {value!r}")
        if key == "python":
            if kind not in ("syscall", "signal", "spawn"):
                raise TraceFormatError(f"unknown key 'python' in a {kind} event")
            try:
                from harness.model.frames import stack_from_json

                value = stack_from_json(value)
            except ValueError as error:
                raise TraceFormatError(str(error)) from None
        elif key in _SECONDS:
            value = _seconds(key, value)
        values[key] = tuple(value) if isinstance(value, list) and key in ("argv", "fds") else value
    cls = EVENT_TYPES[kind]
    try:
        return cls(**values)
    except TypeError as error:
        raise TraceFormatError(f"{kind} event: {error}") from None
