"""How strace prints a call's arguments: each kind of decoded value, and the argument list they make.

The JSON Lines keep what was decoded; this is the one place that says how
each kind of argument (a flag set, a sockaddr, a sigaction, an array of
pollfds...) reads as text, so that a live run's lines, a trace read back, a
golden story and a failure report print a call the same way, as a strace
user expects.  The lines around the arguments (results, signals, the
``<unfinished ...>`` split, times) are :mod:`harness.model.strace_format`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, assert_never

from harness.model import kernel
from harness.model.syscalls import catalogued
from harness.model.syscalls.entry import ArgKind
from harness.model.syscalls.structs import MAX_WATCHED


@dataclass(frozen=True, slots=True)
class Notation:
    """How much of a call's structs the text shows, as strace's ``-v`` and ``-s`` say (strace(1), 6.1).

    The JSON Lines always hold what was decoded; these only change the text.
    """

    abbrev: bool = True
    """strace's default: a struct of many members shows its first ones then ``...`` (``--no-abbrev``, ``-v``,
    shows them all: the whole ``struct rusage``)."""
    elements: int = MAX_WATCHED
    """``-s``: the most elements of an array shown before ``...``, when abbreviating; strace's 32 by default, the
    most the tracer reads."""


DEFAULT_NOTATION = Notation()


# -- values ---------------------------------------------------------------------


def _flags(names: Any) -> str:
    if isinstance(names, list):
        return "|".join(names) if names else "0"
    return _value(names)


def _value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str) and not value.startswith("0x"):
        return value
    return str(value)


def _sockaddr(addr: Any) -> str:
    if not isinstance(addr, dict):
        return _value(addr)
    family = addr.get("family")
    if family in ("AF_INET", "AF_INET6") and "port" not in addr:  # a buffer too short for more than the family
        return f"{{sa_family={family}}}"
    if family == "AF_INET":
        return f'{{sa_family=AF_INET, sin_port=htons({addr["port"]}), sin_addr=inet_addr("{addr["address"]}")}}'
    if family == "AF_INET6":
        return (
            f"{{sa_family=AF_INET6, sin6_port=htons({addr['port']}), "
            f'sin6_flowinfo=htonl({addr["flowinfo"]}), inet_pton(AF_INET6, "{addr["address"]}"), '
            f"sin6_scope_id={addr['scope_id']}}}"
        )
    if family == "AF_UNIX" and "path" in addr:
        path = addr["path"]
        if path.startswith("@"):  # an abstract name (unix(7)): strace marks it outside the quotes
            return f"{{sa_family=AF_UNIX, sun_path=@{json.dumps(path[1:])}}}"
        return f"{{sa_family=AF_UNIX, sun_path={json.dumps(path)}}}"
    return f"{{sa_family={family}}}"


#: Every signal a sigset can hold on x86_64, in order (_NSIG 64): what a set shown by its complement lacks.
_ALL_SIGNALS = tuple(kernel.signal_name(number) for number in range(1, 65))


def sigset_text(names: Any) -> str:
    """A signal set as strace prints it (``sprintsigmask_n``, src/signal.c).

    ``[HUP CHLD]``, or, when it holds two thirds of the signals or more, by those it lacks: ``~[KILL STOP]``.
    """
    if not isinstance(names, list):
        return _value(names)
    held = set(names)
    if len(held) >= len(_ALL_SIGNALS) * 2 // 3:
        return "~[" + " ".join(name.removeprefix("SIG") for name in _ALL_SIGNALS if name not in held) + "]"
    return "[" + " ".join(name.removeprefix("SIG") for name in names) + "]"


def _fields(value: Any) -> str:
    """A decoded struct of plain members, ``{tv_sec=1, tv_nsec=0}`` (its pointer where it was not read)."""
    if not isinstance(value, dict):
        return _value(value)
    return "{" + ", ".join(f"{key}={_fields(item)}" for key, item in value.items()) + "}"


def _sigaction(act: Any) -> str:
    if not isinstance(act, dict):
        return _value(act)
    parts = [
        f"sa_handler={act['handler']}",
        f"sa_mask={sigset_text(act['mask'])}",
        f"sa_flags={_flags(act['flags'])}",
    ]
    if act.get("restorer"):
        parts.append(f"sa_restorer={act['restorer']}")
    return "{" + ", ".join(parts) + "}"


def wait_status_text(status: Mapping[str, Any]) -> str:
    """The W* macro form strace prints for a wait status."""
    if "exited" in status:
        return f"WIFEXITED(s) && WEXITSTATUS(s) == {status['exited']}"
    if "signaled" in status:
        core = " && WCOREDUMP(s)" if status.get("core_dumped") else ""
        return f"WIFSIGNALED(s) && WTERMSIG(s) == {status['signaled']}{core}"
    if "stopped" in status:
        return f"WIFSTOPPED(s) && WSTOPSIG(s) == {status['stopped']}"
    return "WIFCONTINUED(s)"


def _status(status: Any) -> str:
    if isinstance(status, dict):
        return f"[{{{wait_status_text(status)}}}]"
    return _value(status)


def siginfo_text(info: Any) -> str:
    """A decoded siginfo as strace prints it, ``{si_signo=SIGCHLD, si_code=CLD_EXITED, ...}``; else its pointer."""
    if not isinstance(info, dict):
        return _value(info)
    return "{" + ", ".join(f"{key}={_value(value)}" for key, value in info.items()) + "}"


def _socklen(value: Any, args: Mapping[str, Any]) -> str:
    """A value-result length as strace prints it.

    ``[16]``, or ``[110 => 16]`` where the caller's buffer size differs from what the kernel wrote back, or the
    caller's size alone where the call failed.
    """
    given = args.get("addrlen_in")
    if isinstance(value, int):
        return f"[{given} => {value}]" if isinstance(given, int) and given != value else f"[{value}]"
    return f"[{given}]" if isinstance(given, int) else _value(value)


def _pollfd(item: dict[str, Any]) -> str:
    if "unreadable" in item:  # where the array stopped being readable
        return f"... /* {item['unreadable']} */"
    if item.get("more"):  # more elements than strace shows (its -s, 32)
        return "..."
    if "events" not in item:
        return f"{{fd={item.get('fd')}}}"
    return f"{{fd={item.get('fd')}, events={_flags(item.get('events'))}}}"


def _epoll_event(item: dict[str, Any]) -> str:
    """An epoll_event as strace shows its data union: both readings, ``data={u32=3, u64=3}``."""
    data = item.get("data")
    shown = f"{{u32={data & 0xFFFF_FFFF}, u64={data}}}" if isinstance(data, int) else _value(data)
    return f"{{events={_flags(item.get('events'))}, data={shown}}}"


def _ready_sets(value: Any) -> str:
    if not isinstance(value, dict):
        return _value(value)
    return ", ".join(f"{name} [{' '.join(map(str, fds))}]" for name, fds in value.items())


def format_siginfo(info: Mapping[str, Any]) -> str:
    """A decoded siginfo as strace prints it, ``{si_code=CLD_EXITED, ...}``: for other renderers (golden traces)."""
    return siginfo_text(dict(info))


def _clone3_args(value: Any, args: Mapping[str, Any]) -> str:
    """clone3's struct in strace's member order.

    The flags, the members their flags use, the exit signal after the tids, then the stack.
    """
    if not isinstance(value, list):
        return _value(value)  # the struct could not be read (or was too small): its pointer
    fields = args.get("cl_args") or {}
    signal = args.get("exit_signal") or 0
    parts = [f"flags={_flags(value)}"]
    for key, item in fields.items():
        if key == "stack":
            parts.append(f"exit_signal={signal}")
        if key == "set_tid" and isinstance(item, list):
            parts.append(f"set_tid=[{', '.join(map(str, item))}]")
        elif key == "stack_size" and isinstance(item, int):
            parts.append(f"stack_size={hex(item) if item else 0}")
        elif key == "tail":  # nonzero bytes past the struct the kernel knows, or ??? where unreadable
            parts.append(_struct_tail(item))
        else:
            parts.append(f"{key}={_value(item)}")
    if "stack" not in fields:
        parts.append(f"exit_signal={signal}")
    return "{" + ", ".join(parts) + "}"


def _struct_tail(tail: Any) -> str:
    """What strace shows of a struct's bytes past the members it knows, in hex after their offsets."""
    if not isinstance(tail, dict):
        return "???"
    data = bytes.fromhex(tail["bytes"])
    quoted = "".join(f"\\x{byte:02x}" for byte in data)
    more = "..." if tail["to"] - tail["from"] + 1 > len(data) else ""
    return f'/* bytes {tail["from"]}..{tail["to"]} */ "{quoted}"{more}'


def _clone_flags(value: Any, args: Mapping[str, Any]) -> str:
    names = list(value or [])
    if args.get("exit_signal"):
        names.append(str(args["exit_signal"]))
    return "|".join(names) if names else "0"


def arg_text(kind: ArgKind, value: Any, args: Mapping[str, Any], notation: Notation = DEFAULT_NOTATION) -> str:
    """How an argument of each kind prints, given its value and the call's other arguments.

    Every kind has its case (mypy checks it): clone's flags show its exit signal too.
    """
    limit = notation.elements if notation.abbrev else 1 << 30  # strace: -v prints arrays whole, whatever -s
    match kind:
        case "int" | "fd" | "pid" | "signal" | "name" | "pointer":
            return _value(value)
        case "flags":
            return _flags(value)
        case "sockaddr":
            return _sockaddr(value)
        case "socklen":
            return _socklen(value, args)
        case "sigaction":
            return _sigaction(value)
        case "wait_status":
            return _status(value)
        case "siginfo":
            return siginfo_text(value)
        case "clone_flags":
            return _clone_flags(value, args)
        case "clone_args":
            return _clone3_args(value, args)
        case "pollfds":
            return _items(value, _pollfd, limit)
        case "fd_set":
            return _fd_set(value)
        case "epoll_events":
            return _items(value, _epoll_event, limit)
        case "sigset":
            return sigset_text(value)
        case "timespec" | "timeval":
            return _fields(value)
        case "rusage":
            return _rusage(value, notation)
        case "resuming":
            return f"<... resuming interrupted {value or 'call'} ...>"
        case "clone_args_fields":
            return _fields(value)
        case "clone_args_written":
            return _clone3_args_written(value)
        case "ready_pollfds":
            return _items(value, _ready_pollfd, limit)
        case "ready_fd_sets":
            return _ready_sets(value)
        case "fcntl_arg":
            return _fcntl_arg(value)
        case "returned":
            return _value(value.get("note")) if isinstance(value, dict) and value.get("note") else ""
        case "futex_val3":
            return _flags(value) if isinstance(value, list) else _value(value)
        case "fds":
            return _fds(value)
        case "pselect_sigmask":
            return _pselect_sigmask(value)
    assert_never(kind)


def _fd_set(value: Any) -> str:
    """A select set of descriptors, as strace prints it: ``[3 4]``."""
    return "[" + " ".join(map(str, value)) + "]" if isinstance(value, list) else _value(value)


def _fds(value: Any) -> str:
    """The descriptors the kernel wrote into an array (pipe2's): ``[3, 4]``."""
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else _value(value)


def _rusage(value: Any, notation: Notation) -> str:
    """A struct rusage, abbreviated as strace abbreviates it: the two times, then ``...``."""
    if not isinstance(value, dict) or not notation.abbrev:
        return _fields(value)
    return _fields({key: value[key] for key in ("ru_utime", "ru_stime") if key in value})[:-1] + ", ...}"


def _clone3_args_written(value: Any) -> str:
    """What the kernel wrote into clone3's struct: each tid in brackets, as strace prints it after ``=>``."""
    if not isinstance(value, dict):
        return _value(value)  # the struct could not be read again: its pointer
    return (
        "{"
        + ", ".join(
            _struct_tail(item) if key == "tail" else f"{key}=[{item}]" if _is_number(item) else f"{key}={_value(item)}"
            for key, item in value.items()
        )
        + "}"
    )


def _ready_pollfd(item: dict[str, Any]) -> str:
    """A pollfd poll found ready, in the note after its result: ``{fd=3, revents=POLLIN}``."""
    return f"{{fd={item.get('fd')}, revents={_flags(item.get('revents'))}}}"


def _fcntl_arg(value: Any) -> str:
    """The third argument of fcntl, whose type its command gives: a struct, flags, a number, or a hint in brackets."""
    if isinstance(value, dict) and set(value) == {"hint"}:
        return f"[{value['hint']}]"
    return _fields(value) if isinstance(value, dict) else _flags(value) if isinstance(value, list) else _value(value)


def _pselect_sigmask(value: Any) -> str:
    """pselect6's sixth argument, the mask and its size: ``{sigmask=[CHLD], sigsetsize=8}``."""
    if not isinstance(value, dict):
        return _value(value)
    return f"{{sigmask={sigset_text(value.get('sigmask'))}, sigsetsize={value.get('sigsetsize')}}}"


def _is_number(value: Any) -> bool:
    """A number the kernel wrote (or a golden story's role for one), not a pointer or NULL."""
    return isinstance(value, int) or (isinstance(value, str) and not value.startswith("0x"))


def _items(value: Any, show: Callable[[dict[str, Any]], str], limit: int) -> str:
    """An array of decoded structs, ``[{...}, {...}]``, ``...`` past ``limit`` of them; its pointer when not read."""
    if not isinstance(value, list):
        return _value(value)
    shown = [show(item) if isinstance(item, dict) else _value(item) for item in value[:limit]]
    if len(value) > limit and shown[-1:] != ["..."]:
        shown.append("...")
    return "[" + ", ".join(shown) + "]"


# -- a call's argument list -----------------------------------------------------------


def format_args(name: str, args: Mapping[str, Any], *, part: str = "all", notation: Notation = DEFAULT_NOTATION) -> str:
    """The argument list of a call, from the arguments present in ``args``.

    ``part`` is ``"input"`` for an ``<unfinished ...>`` line (the arguments
    before the first output one), ``"output"`` for a ``<... resumed>`` line
    (the rest), or ``"all"``.  A call without a catalogue entry shows its raw
    arguments as strace shows a call it does not decode (:func:`raw_args_text`).
    """
    if not args:
        return ""
    entry = catalogued(name)
    if entry is None:
        return "" if part == "output" else raw_args_text(args.values())
    shown = [arg for arg in entry.args if arg.shown_in is None and not arg.result_note]
    at_entry = entry.printed_at_entry(args)
    first_output = next((i for i, arg in enumerate(shown) if arg.name not in at_entry), len(shown))
    if part == "input":
        shown = shown[:first_output]
    elif part == "output":
        shown = shown[first_output:]
    text = ""
    for arg in shown:
        if arg.name not in args:
            continue
        value = arg_text(arg.kind_in(args), args[arg.name], args, notation)
        if arg.indirect and isinstance(args[arg.name], int):
            value = f"[{value}]"
        if arg.named:
            value = f"{arg.name}={value}"
        if arg.braced:
            value = f"{{{value}}}"
        if arg.kind == "clone_args_written":  # what the kernel wrote into a struct, after it: {...} => {...}
            text += f" => {value}"
        else:
            text += f", {value}" if text else value
    return text


def raw_args_text(values: Iterable[Any]) -> str:
    """The registers of a call without a decoder, as strace prints them (``printargs``, src/syscall.c).

    Each in hex, as the unsigned register it is (``%#lx``), 0 as ``0``.
    """
    return ", ".join(hex(v & 0xFFFF_FFFF_FFFF_FFFF) if isinstance(v, int) else _value(v) for v in values)
