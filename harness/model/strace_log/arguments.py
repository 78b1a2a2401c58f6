"""A call's arguments and result as strace printed them, decoded into the values the tracer records.

The syscall catalogue (:mod:`harness.model.syscalls`) says which arguments a
call has, in the order strace prints them, and of which kind each is; this
module reads each kind back from strace's text into the value the harness's
own decoder gives (``{"family": "AF_INET", "port": 8080, ...}`` for a peer,
``["SOCK_CLOEXEC"]`` for flags, ``{"exited": 0}`` for a wait status), so that
an expectation file's steps match a call from an strace log as they match
the same call traced by the harness.  ``-X raw`` numbers are named through
the same flag tables the tracer uses (:mod:`harness.model.kernel_flags`);
``-X verbose`` comments give the names.  A call outside the catalogue keeps
strace's text of each argument, under the prototype's names.

What strace did not print (an abbreviated struct's members, a pointer's
target it did not read) is not invented: the value stays as strace wrote it,
a pointer or the members shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from harness.model import kernel, kernel_flags
from harness.model.strace_log import forms
from harness.model.strace_log.lines import Result
from harness.model.strace_log.values import (
    array_items,
    braced,
    comment,
    flag_words,
    integer,
    split_top,
    string,
    string_bytes,
    struct_fields,
)
from harness.model.syscalls import argument_names, catalogued, futex
from harness.model.syscalls.entry import Arg, ArgKind


class ArgumentError(ValueError):
    """An argument or a result this reader cannot turn into the tracer's value."""


def _pointer(text: str) -> str | None:
    """A pointer as the tracer keeps it: None for NULL, its address in hex, or strace's text of it."""
    text, _ = comment(text.strip())
    if text == "NULL":
        return None
    number = integer(text)
    return hex(number) if number is not None and number >= 0 else text


def _int(text: str) -> int:
    number = integer(text.strip().removeprefix("[").removesuffix("]"))
    if number is None:
        raise ArgumentError(f"expected a number, got '{text}'")
    return number


def _flags(text: str, xlat: kernel_flags.Xlat | None) -> list[str]:
    """Flag names: ``A|B``, a ``-X verbose`` number with its names in a comment, a ``-X raw`` number named here.

    The numbers of a text are one remainder, named as the tracer names the
    same bits (:meth:`~harness.model.kernel_flags.Xlat.flags`): in hex after
    names (``SOCK_CLOEXEC|0x1``), alone with its family's comment
    (``0x1 /* SOCK_??? */``, the family read from the comment where no table
    is known), or by name where ``-X raw`` printed named bits.
    """
    bare, named = comment(text.strip())
    family = xlat.family if xlat is not None else None
    if named is not None and named.endswith("???"):  # strace's unknown value names its family: O_???
        family = family or named.removesuffix("???")
    elif named is not None and not named.startswith("0x"):  # -X verbose: the names strace gave the number
        return [part.strip() for part in named.split("|")]
    names: list[str] = []
    rest = 0
    for word in flag_words(bare):
        number = integer(word)
        if number is None:
            names.append(word)
        else:
            rest |= number
    if rest:
        names.extend(kernel_flags.flag_names(rest, xlat.table if xlat is not None else {}, None if names else family))
    return names


def _signal(text: str) -> str | int | None:
    bare, named = comment(text.strip())
    if named is not None and named.startswith("SIG"):
        return named
    number = integer(bare)
    if number is None:
        return bare if bare.startswith("SIG") else ("SIG" + bare if bare.isupper() else bare)
    # A number that is no signal stays a number, as the tracer keeps it; strace printed it at its width already
    # (an int's sign, clone3's 64-bit exit_signal), so not structs.signal_arg, which reads an int register.
    return kernel.SIGNAL_NAMES.get(number, number)


def _name(text: str, xlat: kernel_flags.Xlat | None) -> str | int:
    """A value's name, from its text, its ``-X verbose`` comment or, for a ``-X raw`` number, the tracer's table.

    ``0x2a /* P_??? */`` is strace's unknown value (``printxval``): its number
    is named as the tracer names it, not by the comment's placeholder.
    """
    bare, named = comment(text.strip())
    if named is not None and not named.endswith("???"):
        return named
    number = integer(bare)
    if number is None:
        return bare
    return xlat.name(number) if xlat is not None else number


def sigset(text: str) -> list[str] | str | None:
    """``[HUP CHLD]`` as signal names; ``~[KILL STOP]`` as every signal but those; else a pointer."""
    text = text.strip()
    complement = text.startswith("~")
    inside = braced(text.removeprefix("~"), "[", "]")
    if inside is None:
        return _pointer(text)
    named = []
    for word in inside.split():
        number = integer(word)
        named.append(kernel.signal_name(number) if number is not None else "SIG" + word.removeprefix("SIG"))
    if complement:
        return [kernel.signal_name(number) for number in range(1, 65) if kernel.signal_name(number) not in named]
    return named


def _sigaction(text: str) -> dict[str, Any] | str | None:
    fields = struct_fields(text)
    if fields is None:
        return _pointer(text)
    handler = fields.get("sa_handler", "SIG_DFL")
    bare, named = comment(handler)
    number = integer(bare)
    handler = named or (kernel.SPECIAL_HANDLERS.get(number, hex(number)) if number is not None else bare)
    restorer = fields.get("sa_restorer")
    return {
        "handler": handler,
        "flags": _flags(fields.get("sa_flags", "0"), kernel_flags.SA_FLAGS_XLAT),
        "mask": _listed(sigset(fields.get("sa_mask", "[]"))),
        "restorer": _pointer(restorer) if restorer is not None else None,
    }


def _listed(value: list[str] | str | None) -> list[str]:
    return value if isinstance(value, list) else []


#: ``{WIFEXITED(s) && WEXITSTATUS(s) == 0}`` and its kin (strace's ``printstatus``, src/wait.c).
_STATUS = re.compile(
    r"\[?\{(?:WIFEXITED\(s\) && WEXITSTATUS\(s\) == (?P<exited>\d+)"
    r"|WIFSIGNALED\(s\) && WTERMSIG\(s\) == (?P<signaled>\w+)(?P<core> && WCOREDUMP\(s\))?"
    r"|WIFSTOPPED\(s\) && WSTOPSIG\(s\) == (?P<stopped>\w+)"
    r"|(?P<continued>WIFCONTINUED\(s\)))"
)


def _wait_status(text: str) -> dict[str, Any] | str | None:
    found = _STATUS.match(text.strip())
    if found is None:
        number = integer(text.strip().removeprefix("[").removesuffix("]"))
        if text.strip().startswith("[") and number is not None:  # -X raw: the status word
            return kernel.decode_wait_status(number)
        return _pointer(text)
    if found["exited"] is not None:
        return {"exited": int(found["exited"])}
    if found["signaled"] is not None:
        return {"signaled": str(_signal(found["signaled"])), "core_dumped": bool(found["core"])}
    if found["stopped"] is not None:
        return {"stopped": str(_signal(found["stopped"]))}
    return {"continued": True}


def siginfo(text: str) -> dict[str, Any] | str | None:
    """A siginfo as the tracer decodes it: the signal and its code by name, the other members as numbers."""
    fields = struct_fields(text)
    if fields is None:
        return _pointer(text)
    info: dict[str, Any] = {}
    signo = str(_signal(fields.get("si_signo", "0")))
    for key, value in fields.items():
        if key == "si_signo":
            info[key] = signo
        elif key == "si_code":
            bare, named = comment(value)
            number = integer(bare)
            info[key] = named or (kernel.si_code_name(signo, number) if number is not None else bare)
        elif key == "si_status":
            number = integer(value)
            info[key] = number if number is not None else _signal(value)
        elif key == "si_addr":
            info[key] = _pointer(value) or "0x0"
        elif key in ("si_pid", "si_uid", "si_utime", "si_stime"):
            info[key] = _int(value)
        else:
            raise ArgumentError(f"a siginfo member the tracer does not keep: '{key}={value}'")
    return info


def _sockaddr(text: str) -> dict[str, Any] | str | None:
    fields = struct_fields(text)
    if fields is None:
        return _pointer(text)
    family = _name(fields.get("sa_family", "0"), kernel_flags.ADDRESS_FAMILIES_XLAT)
    if family == "AF_INET" and "sin_port" in fields:
        return {"family": family, "port": _port(fields["sin_port"]), "address": _inet(fields.get("sin_addr", ""))}
    if family == "AF_INET6" and "sin6_port" in fields:
        address = next((key for key in fields if key.startswith("inet_pton(")), None)
        quoted = re.search(r'"([^"]*)"', address or "")
        raw = fields.get("sin6_addr")
        return {
            "family": family,
            "port": _port(fields["sin6_port"]),
            "flowinfo": _int(re.sub(r"htonl\((\d+)\)", r"\1", fields.get("sin6_flowinfo", "0"))),
            "address": quoted.group(1) if quoted else _inet6(raw or ""),
            "scope_id": _int(fields.get("sin6_scope_id", "0")),
        }
    if family == "AF_UNIX":
        path = fields.get("sun_path")
        if path is None:
            return {"family": family}
        abstract = path.startswith("@")
        decoded = string(path.removeprefix("@"))
        return {"family": family, "path": ("@" if abstract else "") + (decoded if decoded is not None else path)}
    return {"family": family}


def _port(text: str) -> int:
    r"""``htons(8080)``; ``-X raw``'s two bytes ``"\\x1f\\x90"``; ``-X verbose``'s comment."""
    bare, named = comment(text)
    found = re.fullmatch(r"htons\((\d+)\)", (named or bare).strip())
    if found is not None:
        return int(found.group(1))
    data = string_bytes(bare)
    if data is not None and len(data) == 2:
        return int.from_bytes(data, "big")
    return _int(bare)


def _inet(text: str) -> str:
    bare, named = comment(text)
    found = re.fullmatch(r'inet_addr\("([^"]*)"\)', (named or bare).strip())
    if found is not None:
        return found.group(1)
    data = string_bytes(bare)
    if data is not None and len(data) == 4:
        return ".".join(map(str, data))
    raise ArgumentError(f"expected an IPv4 address, inet_addr(\"...\"), got '{text}'")


def _inet6(text: str) -> str:
    import ipaddress

    data = string_bytes(comment(text)[0])
    if data is None or len(data) != 16:
        raise ArgumentError(f"expected an IPv6 address, inet_pton(AF_INET6, \"...\"), got '{text}'")
    return str(ipaddress.IPv6Address(data))


def _numbers_struct(text: str) -> dict[str, Any] | str | None:
    """A struct of numbers (a timespec, a timeval), or its pointer."""
    fields = struct_fields(text)
    if fields is None:
        return _pointer(text)
    return {key: _int(value) for key, value in fields.items()}


def _rusage(text: str) -> dict[str, Any] | str | None:
    fields = struct_fields(text)
    if fields is None:
        return _pointer(text)
    return {
        key: _numbers_struct(value) if value.strip().startswith("{") else _int(value) for key, value in fields.items()
    }


def _items(text: str, one: Callable[[str], Any]) -> list[Any] | str | None:
    items = array_items(text)
    if items is None:
        return _pointer(text)
    return [_item(item, one) for item in items]


def _item(text: str, one: Callable[[str], Any]) -> Any:
    """An array's element; strace's ``...`` for the rest it left out, ``... /* 0x7f... */`` where it could not read."""
    if text == "...":
        return {"more": True}
    bare, address = comment(text)
    if bare.strip() == "..." and address is not None:
        return {"unreadable": address}
    return one(text)


def _pollfd(text: str) -> dict[str, Any]:
    fields = struct_fields(text) or {}
    pollfd: dict[str, Any] = {"fd": _int(fields.get("fd", "-1"))}
    if "events" in fields:
        pollfd["events"] = _flags(fields["events"], kernel_flags.POLL_EVENTS_XLAT)
    return pollfd


def _ready_pollfd(text: str) -> dict[str, Any]:
    fields = struct_fields(text) or {}
    return {
        "fd": _int(fields.get("fd", "-1")),
        "revents": _flags(fields.get("revents", "0"), kernel_flags.POLL_EVENTS_XLAT),
    }


def _epoll_event(text: str) -> dict[str, Any]:
    fields = struct_fields(text) or {}
    data = struct_fields(fields.get("data", "0"))
    number = data.get("u64", "0") if data is not None else fields.get("data", "0")
    return {"events": _flags(fields.get("events", "0"), kernel_flags.EPOLL_EVENTS_XLAT), "data": _int(number)}


def _fd_set(text: str) -> list[int] | str | None:
    inside = braced(text, "[", "]")
    if inside is None:
        return _pointer(text)
    return [_int(word) for word in inside.split() if word != "..."]  # what -s left out is not there


def _fds(text: str) -> list[int] | str | None:
    items = array_items(text)
    return [_int(item) for item in items if item != "..."] if items is not None else _pointer(text)


def _resuming(text: str) -> str | None:
    found = forms.RESUMING.match(text.strip())
    if found is None:
        raise ArgumentError(f"expected '<... resuming interrupted CALL ...>', got '{text}'")
    return None if found["name"] == "call" else found["name"]


def _generic(text: str) -> Any:
    """A value of a kind read as what it looks like: a number, a pointer, flags or a struct of such."""
    fields = struct_fields(text)
    if fields is not None:
        return {key: _generic(value) for key, value in fields.items()}
    number = integer(text)
    if number is not None:
        return number
    if "|" in text or re.fullmatch(r"[A-Z][A-Z0-9_]+", comment(text)[0].strip()):
        return _flags(text, None)
    return _pointer(text)


def _clone_flags(text: str, decoded: dict[str, Any], xlat: kernel_flags.Xlat | None) -> list[str]:
    """The flags of clone, with its exit signal folded in (``A|B|SIGCHLD``, ``-X raw`` ``0x1200000|17``)."""
    words = flag_words(text)
    signal: Any = None
    if words:
        bare, named = comment(words[-1])
        number = integer(bare)
        decimal = number is not None and not bare.startswith("0x") and 0 < number < 256  # CSIGNAL, the low byte
        if bare.startswith("SIG") or (named or "").startswith("SIG") or decimal:
            signal = _signal(words.pop())
    decoded["exit_signal"] = signal or None
    return _flags("|".join(words) or "0", xlat)


def _clone3(text: str, decoded: dict[str, Any], xlat: kernel_flags.Xlat | None) -> Any:
    """clone3's struct: its flags, exit signal and other members, and what the kernel wrote back (`` => {...}``)."""
    given, _, written = text.partition(" => ")
    fields = struct_fields(given)
    if fields is None:
        decoded["exit_signal"] = None
        return _pointer(given)
    cl_args: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("flags", "exit_signal"):
            continue
        number = integer(value)
        if key in ("stack_size", "set_tid_size", "cgroup"):
            cl_args[key] = _int(value)
        elif key == "set_tid":
            cl_args[key] = _fds(value)
        else:
            cl_args[key] = hex(number) if number else None if number == 0 or value == "NULL" else _pointer(value)
    decoded["exit_signal"] = _signal(fields.get("exit_signal", "0")) or None
    decoded["cl_args"] = cl_args
    if written:
        members = struct_fields(written) or {}
        decoded["cl_args_written"] = {
            key: _int(value) if value.startswith("[") else _pointer(value) for key, value in members.items()
        }
    return _flags(fields.get("flags", "0"), xlat)


def _value(kind: ArgKind, text: str, arg: Arg, decoded: dict[str, Any]) -> Any:
    """One argument of a kind, from its text (``decoded`` gets what one text holds of other arguments)."""
    text = text.strip()
    match kind:
        case "int" | "fd" | "pid":
            if arg.indirect and not text.startswith("["):  # no number written there: its address (parent_tid=0x7f...)
                return _pointer(text)
            number = integer(text.removeprefix("[").removesuffix("]") if arg.indirect else text)
            if number is None:
                return _pointer(text) if arg.output else _refuse(kind, text)
            return number
        case "signal":
            return _signal(text)
        case "name":
            return _name(text, arg.xlat)
        case "flags":
            return _flags(text, arg.xlat)
        case "pointer":
            return _pointer(text)
        case "sockaddr":
            return _sockaddr(text)
        case "sigaction":
            return _sigaction(text)
        case "wait_status":
            return _wait_status(text)
        case "siginfo":
            return siginfo(text)
        case "clone_flags":
            return _clone_flags(text, decoded, arg.xlat)
        case "clone_args":
            return _clone3(text, decoded, arg.xlat)
        case "pollfds":
            return _items(text, _pollfd)
        case "fd_set":
            return _fd_set(text)
        case "epoll_events":
            return _items(text, _epoll_event)
        case "sigset":
            return sigset(text)
        case "timespec" | "timeval":
            return _numbers_struct(text)
        case "rusage":
            return _rusage(text)
        case "resuming":
            return _resuming(text)
        case "fds":
            return _fds(text)
        case "ready_pollfds":
            return _items(text, _ready_pollfd)
        case "futex_val3":  # a bitset in hex as the tracer keeps it (C's %#x), a count, or FUTEX_WAKE_OP's parts
            number = integer(text)
            if number is not None:
                return hex(number) if comment(text)[0].strip().startswith("0x") else number
            return flag_words(text) if "<<" in text else comment(text)[0]
        case "pselect_sigmask":
            fields = struct_fields(text)
            if fields is None:
                return _pointer(text)
            return {"sigmask": sigset(fields.get("sigmask", "NULL")), "sigsetsize": _int(fields.get("sigsetsize", "0"))}
        case _:  # the kinds of rarer calls' arguments (fcntl's, futex's): read as they look
            return _generic(text)


def _refuse(kind: str, text: str) -> Any:
    raise ArgumentError(f"expected a number for an argument of kind {kind}, got '{text}'")


def decode_args(name: str, texts: Sequence[str], result: Result | None) -> dict[str, Any]:
    """The arguments of a call from the texts strace printed for them, in order (both halves of a split call)."""
    entry = catalogued(name)
    if entry is None:
        names = argument_names(name) or tuple(f"arg{index}" for index in range(1, len(texts) + 1))
        return {key: _raw(text) for key, text in zip(names, texts, strict=False)}
    decoded: dict[str, Any] = {}
    # clone3's written struct has no place of its own: it follows its struct (`` => {...}``), or opens a resumed half.
    written = next((arg for arg in entry.args if arg.kind == "clone_args_written"), None)
    printed = [arg for arg in entry.args if arg.shown_in is None and not arg.result_note and arg is not written]
    by_name = {arg.name: arg for arg in printed}
    position = 0
    for text in texts:
        text = text.strip()
        if text.startswith("=> ") and written is not None:  # clone3's written struct, on its resumed half
            members = struct_fields(text[3:]) or {}
            decoded[written.name] = {
                key: _int(value) if value.startswith("[") else _pointer(value) for key, value in members.items()
            }
            continue
        inner = braced(text) if any(arg.braced for arg in printed) else None
        key, equals, value = (inner or text).partition("=")
        if equals and key in by_name and by_name[key].named:
            arg = by_name[key]
            position = printed.index(arg) + 1
        else:  # the next argument printed in its place, past the named ones and those another text held
            while position < len(printed) and (printed[position].named or printed[position].name in decoded):
                position += 1
            if position >= len(printed):
                raise ArgumentError(f"{name} has {len(printed)} arguments strace prints; got more: '{text}'")
            arg, value = printed[position], text
            position += 1
        if arg.kind == "socklen":
            _socklen(value, decoded, succeeded=result is not None and result.errno is None and result.value is not None)
            continue
        decoded[arg.name] = _value(arg.kind_in(decoded), value, arg, decoded)
        if name == "futex" and arg.name == "op" and isinstance(decoded["op"], list):
            # what futex shows after its op depends on the command (strace's do_futex): the catalogue's list
            shown = [by_name[key] for key in futex.shown_after_op(decoded["op"]) if key in by_name]
            printed, position = [*printed[:position], *shown], position
    if result is not None:
        decoded.update(_notes(name, result))
    return decoded


def _socklen(text: str, decoded: dict[str, Any], *, succeeded: bool) -> None:
    """The peer length of accept: ``[16]``, ``[110 => 16]`` (given, then written back), or a pointer."""
    inside = braced(text.strip(), "[", "]")
    if inside is None:
        decoded["addrlen"] = _pointer(text)
        return
    given, arrow, written = inside.partition("=>")
    decoded["addrlen_in"] = _int(given)
    # A failed call's length is where the caller's size stays: strace shows the size, not the pointer the
    # tracer keeps, so its text stands for it.
    decoded["addrlen"] = (_int(written) if arrow else _int(given)) if succeeded else text.strip()


def _raw(text: str) -> int | str:
    number = integer(text)
    return number if number is not None else text.strip()


def _notes(name: str, result: Result) -> dict[str, Any]:
    """What strace noted after a result, as the arguments the tracer keeps it in."""
    entry = catalogued(name)
    assert entry is not None
    names = {arg.name for arg in entry.args}
    notes: dict[str, Any] = {}
    shown = result.hexadecimal or result.note  # the tracer keeps only a result strace shows otherwise than plain
    if "returned" in names and result.errno is None and result.value is not None and shown:
        notes["returned"] = {"hex": result.hexadecimal, **({"note": result.note} if result.note else {})}
        return notes
    if result.note is None or result.note == "Timeout" or result.errno is not None:
        return notes
    for item in split_top(result.note):
        if item.startswith("left ") and "left" in names:
            notes["left"] = _numbers_struct(item[5:])
        elif item.startswith("[") and "ready" in names:
            notes["ready"] = _items(item, _ready_pollfd)
        elif re.match(r"(in|out|except) \[", item) and "ready" in names:
            key, _, fds = item.partition(" ")
            notes.setdefault("ready", {})[key] = _fd_set(fds)
        else:
            raise ArgumentError(f"a note after {name}'s result the tracer has no place for: '({result.note})'")
    return notes
