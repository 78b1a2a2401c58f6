"""The nested values of a JSON Lines event, checked against the documented contract (docs/reference/jsonl.md).

:func:`harness.model.events.event_from_dict` checks an event's own keys and
their types; this checks what is inside them: a call's ``args`` by each
argument's kind in the syscall catalogue (a ``close`` fd is an integer, an
``accept4`` peer address of family ``AF_INET`` has a port), a signal's
``siginfo``, an exec's ``argv``.  Everything that reads a trace (``show``,
``explain``, ``report``, ``diff``, ``check --trace``) relies on these
shapes, so a file that breaks them is refused at its line, with the key at
fault, instead of failing later with a traceback.

A shape is a small value: a type, a choice of shapes, a list of one shape,
or a record of keys (required and optional) with a shape each.  The walk is
iterative, so no nesting depth can exhaust the stack.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.model.events import Event, ExecEvent, SignalEvent, SyscallEvent, TraceFormatError
from harness.model.kernel_abi import ForeignAbi
from harness.model.syscalls import catalogued
from harness.model.syscalls.entry import Arg, ArgKind
from harness.model.syscalls.structs import RUSAGE_COUNTERS


@dataclass(frozen=True, slots=True)
class _Kind:
    """One JSON type: ``int`` (never a boolean), ``str``, ``bool``, or ``None`` for null."""

    name: str


@dataclass(frozen=True, slots=True)
class _OneOf:
    """Any one of the shapes."""

    choices: tuple[Shape, ...]


@dataclass(frozen=True, slots=True)
class _ListOf:
    """A JSON array whose every item has the shape."""

    item: Shape


@dataclass(frozen=True, slots=True)
class _Record:
    """A JSON object with the required keys, and maybe the optional ones, each value of its shape."""

    required: Mapping[str, Shape]
    optional: Mapping[str, Shape]


Shape = _Kind | _OneOf | _ListOf | _Record

INT, STR, BOOL, NULL = _Kind("int"), _Kind("str"), _Kind("bool"), _Kind("null")
_ADDRESS = _OneOf((STR, NULL))  # a pointer: its address in hex, null for NULL
_NAMES = _ListOf(STR)  # flag names; unknown bits as a hex string


def _record(required: Mapping[str, Shape], optional: Mapping[str, Shape] | None = None) -> _Record:
    return _Record(required, optional or {})


def _or_pointer(shape: Shape) -> Shape:
    """A struct the kernel wrote, or its pointer where it could not be read (a failed call)."""
    return _OneOf((shape, STR, NULL))


#: The peer address of accept: its fields by family (structs.decode_sockaddr).
_SOCKADDRS: Mapping[str, Shape] = {
    # A buffer too short for more than the family has the family alone (accept's [2 => 16]).
    "AF_INET": _OneOf((_record({"family": STR, "port": INT, "address": STR}), _record({"family": STR}))),
    "AF_INET6": _OneOf(
        (
            _record({"family": STR, "port": INT, "address": STR}, {"flowinfo": INT, "scope_id": INT}),
            _record({"family": STR}),
        )
    ),
    "AF_UNIX": _record({"family": STR}, {"path": STR}),  # no path: a buffer of the family alone
}
_OTHER_SOCKADDR = _record({"family": _OneOf((STR, INT, NULL))})

_SIGACTION = _record({"handler": STR, "flags": _NAMES, "mask": _NAMES, "restorer": _ADDRESS})
_WAIT_STATUS = _OneOf(
    (
        _record({"exited": INT}),
        _record({"signaled": STR, "core_dumped": BOOL}),
        _record({"stopped": STR}),
        _record({"continued": BOOL}),
    )
)
SIGINFO = _record(
    {"si_signo": STR, "si_code": STR},
    {"si_pid": INT, "si_uid": INT, "si_status": _OneOf((INT, STR)), "si_utime": INT, "si_stime": INT, "si_addr": STR},
)
#: A siginfo the kernel left empty (waitid with WNOHANG and no child ready): ``{}``.
_EMPTY = _record({})
_SIGSET = _ListOf(STR)  # the signals in a set, by name
_TIMESPEC = _record({"tv_sec": INT, "tv_nsec": INT})
_TIMEVAL = _record({"tv_sec": INT, "tv_usec": INT})
#: clone3's struct members other than its flags and exit signal (structs.decode_clone3_args).
_CLONE_ARGS_FIELDS = _record(
    {},
    {
        "pidfd": _ADDRESS,
        "child_tid": _ADDRESS,
        "parent_tid": _ADDRESS,
        "stack": _ADDRESS,
        "stack_size": INT,
        "tls": _ADDRESS,
        "set_tid": _OneOf((_ListOf(INT), STR, NULL)),
        "set_tid_size": INT,
        "cgroup": INT,
        "tail": _OneOf((_record({"from": INT, "to": INT, "bytes": STR}), NULL)),
    },
)
#: fcntl's structs (fcntl.py): a lock, an owner, a delegation, a write-life hint.
_FCNTL_STRUCTS = (
    _record({"l_type": STR, "l_whence": STR, "l_start": INT, "l_len": INT}, {"l_pid": INT}),
    _record({"type": STR, "pid": INT}),
    _record({"d_flags": _OneOf((STR, INT)), "d_type": STR, "__pad": _OneOf((STR, INT))}),
    _record({"hint": STR}),
)

#: The shape of an argument of each kind (harness.model.syscalls.entry.ArgKind).
ARG_SHAPES: Mapping[ArgKind, Shape] = {
    "int": INT,
    "fd": INT,
    "pid": INT,
    "signal": _OneOf((STR, INT, NULL)),  # null: a clone's exit_signal when it has none (a thread's)
    "name": _OneOf((STR, INT)),
    "flags": _NAMES,
    "pointer": _ADDRESS,
    "sockaddr": _or_pointer(_OneOf((*_SOCKADDRS.values(), _OTHER_SOCKADDR))),
    "socklen": _OneOf((INT, STR, NULL)),
    "sigaction": _or_pointer(_SIGACTION),
    "wait_status": _or_pointer(_WAIT_STATUS),
    "siginfo": _or_pointer(_OneOf((SIGINFO, _EMPTY))),
    "clone_flags": _NAMES,
    "clone_args": _or_pointer(_NAMES),
    # {fd=-1} has no events; an element past the readable memory is its address.
    "pollfds": _or_pointer(_ListOf(_record({}, {"fd": INT, "events": _NAMES, "unreadable": STR, "more": BOOL}))),
    "fd_set": _or_pointer(_ListOf(INT)),
    "epoll_events": _or_pointer(_ListOf(_record({"events": _NAMES, "data": INT}))),
    "sigset": _or_pointer(_SIGSET),
    "timespec": _or_pointer(_TIMESPEC),
    "timeval": _or_pointer(_TIMEVAL),
    "rusage": _or_pointer(_record({"ru_utime": _TIMEVAL, "ru_stime": _TIMEVAL}, dict.fromkeys(RUSAGE_COUNTERS, INT))),
    "resuming": _OneOf((STR, NULL)),
    "clone_args_fields": _CLONE_ARGS_FIELDS,
    "clone_args_written": _or_pointer(
        _record(
            {},
            {
                "pidfd": _OneOf((INT, STR, NULL)),
                "parent_tid": _OneOf((INT, STR, NULL)),
                "tail": _OneOf((_record({"from": INT, "to": INT, "bytes": STR}), NULL)),
            },
        )
    ),
    "ready_pollfds": _ListOf(_record({"fd": INT, "revents": _NAMES})),
    "ready_fd_sets": _record({}, {"in": _ListOf(INT), "out": _ListOf(INT), "except": _ListOf(INT)}),
    "pselect_sigmask": _or_pointer(_record({"sigmask": _or_pointer(_SIGSET), "sigsetsize": INT})),
    "fds": _or_pointer(_ListOf(INT)),
    "futex_val3": _OneOf((INT, STR, _NAMES)),
    "fcntl_arg": _or_pointer(_OneOf((INT, _NAMES, *_FCNTL_STRUCTS))),
    "returned": _record({"hex": BOOL}, {"note": _OneOf((STR, NULL))}),
}


def arg_shape(arg: Arg, kind: ArgKind) -> Shape:
    """The shape of an argument of ``kind``: its kind's, or its pointer as well where it is a number at an address.

    clone's ``parent_tid`` is the tid the kernel wrote at the caller's address;
    where it wrote none (a failed call) or the tracer could not read it, the
    value is that address, as strace prints ``parent_tid=0x7f...``.
    """
    shape = ARG_SHAPES[kind]
    return _OneOf((shape, STR, NULL)) if arg.indirect else shape


def check_event(event: Event) -> None:
    """Raise TraceFormatError, naming the key at fault, for a nested value outside the contract."""
    if isinstance(event, SyscallEvent) and event.abi is not None:  # another ABI's call: its raw registers
        if event.abi not in typing.get_args(ForeignAbi):
            raise TraceFormatError(f"key 'abi' must be one of {', '.join(typing.get_args(ForeignAbi))}")
        for key, value in event.args.items():
            _check(f"args.{key}", value, INT)
    elif isinstance(event, SyscallEvent):
        _check_args(event.name, event.args)
    elif isinstance(event, SignalEvent) and event.siginfo is not None:
        _check("siginfo", event.siginfo, SIGINFO)
    elif isinstance(event, ExecEvent):
        _check("argv", list(event.argv), _ListOf(STR))
        if event.fds is not None:
            _check("fds", list(event.fds), _ListOf(INT))


def _check_args(name: str, args: Mapping[str, Any]) -> None:
    entry = catalogued(name)
    if entry is None:  # a call outside the catalogue: its raw registers, or what an strace log printed of them
        for key, value in args.items():
            _check(f"args.{key}", value, _OneOf((INT, STR)))
        return
    declared = {arg.name: arg for arg in entry.args}
    for key, value in args.items():
        arg = declared.get(key)
        if arg is None:
            raise TraceFormatError(f"{name} has no argument {key!r} (its arguments: {', '.join(declared)})")
        shape = arg_shape(arg, arg.kind_in(args))
        if arg.kind == "sockaddr" and isinstance(value, dict):
            family = value.get("family")
            shape = _SOCKADDRS.get(family, _OTHER_SOCKADDR) if isinstance(family, str) else _OTHER_SOCKADDR
        _check(f"args.{key}", value, shape)


def _describe(shape: Shape) -> str:
    if isinstance(shape, _Kind):
        return {"int": "an integer", "str": "a string", "bool": "true or false", "null": "null"}[shape.name]
    if isinstance(shape, _ListOf):
        return f"a list of {_describe(shape.item).removeprefix('an ').removeprefix('a ')}s"
    if isinstance(shape, _Record):
        return "an object with " + ", ".join(repr(key) for key in shape.required) if shape.required else "an object"
    return " or ".join(dict.fromkeys(_describe(choice) for choice in shape.choices))


def _fits(value: Any, kind: _Kind) -> bool:
    if kind is INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is STR:
        return isinstance(value, str)
    if kind is BOOL:
        return isinstance(value, bool)
    return value is None


def _check(where: str, value: Any, shape: Shape) -> None:
    """Walk ``value`` against ``shape`` without recursion; the first mismatch is raised with its path."""
    pending: list[tuple[str, Any, Shape]] = [(where, value, shape)]
    while pending:
        path, item, expected = pending.pop()
        problem = _mismatch(item, expected)
        if problem is not None:
            raise TraceFormatError(f"{path} must be {problem}, got {_shown(item)}")
        while isinstance(expected, _OneOf):
            expected = next(choice for choice in expected.choices if _mismatch(item, choice) is None)
        if isinstance(expected, _ListOf):
            pending.extend(
                reversed([(f"{path}[{index}]", element, expected.item) for index, element in enumerate(item)])
            )
        elif isinstance(expected, _Record):
            fields = {**expected.required, **expected.optional}
            pending.extend(reversed([(f"{path}.{key}", element, fields[key]) for key, element in item.items()]))


def _mismatch(value: Any, shape: Shape) -> str | None:
    """What ``value`` should have been, when its outer layer does not fit ``shape`` (None: it fits)."""
    if isinstance(shape, _Kind):
        return None if _fits(value, shape) else _describe(shape)
    if isinstance(shape, _ListOf):
        return None if isinstance(value, list) else _describe(shape)
    if isinstance(shape, _Record):
        if not isinstance(value, dict):
            return _describe(shape)
        missing = [key for key in shape.required if key not in value]
        unknown = [key for key in value if key not in shape.required and key not in shape.optional]
        if missing or unknown:
            return _describe(shape) + (f", lacking {missing[0]!r}" if missing else f", without {unknown[0]!r}")
        return None
    for choice in shape.choices:
        if _mismatch(value, choice) is None:
            return None
    return _describe(shape)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
