"""One line of an strace log, read into its parts: the task, its times, and what happened.

The grammar is :mod:`.forms`'s; this module only cuts a line along it, and
says what is wrong with a line that does not fit (the caller adds the file
and the line number).  The arguments stay text here: decoding them is
:mod:`.arguments`'s, once a call's two halves are joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from harness.model.strace_log import forms

#: What a line says: a whole call, a call's first or second half, a signal, a stop, or a task's end.
LineKind = Literal["call", "unfinished", "resumed", "signal", "stopped", "exited", "killed", "superseded"]


class LineError(ValueError):
    """A line this reader cannot read; the message says what is wrong and what it expected."""


@dataclass(frozen=True, slots=True)
class Clock:
    """The times at the start of a line, as ``-t``, ``-tt``, ``-ttt`` and ``-r`` print them."""

    absolute: float | None = None
    """``-ttt``: seconds since the epoch; ``-t``, ``-tt``: seconds since midnight (``of_day``)."""
    of_day: bool = False
    """The absolute time is a time of day (``-t``, ``-tt``), which wraps at midnight."""
    relative: float | None = None
    """``-r``: seconds since the previous line."""


NO_CLOCK = Clock()


@dataclass(frozen=True, slots=True)
class Result:
    """What follows `` = `` on a call's line."""

    value: int | None
    """The number printed, None for ``?`` (no value user space sees)."""
    hexadecimal: bool = False
    """Printed in hex (an address, fcntl's flags), as the harness keeps it (``returned.hex``)."""
    errno: str | None = None
    """``EINTR``, or a restart code such as ``ERESTARTSYS``."""
    note: str | None = None
    """What strace notes in parentheses after a success: ``Timeout``, ``[{fd=3, revents=POLLIN}]``."""
    injected: bool = False
    duration: float | None = None
    """``-T``: seconds spent in the call."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an strace log that tells an event (or half of a call)."""

    number: int
    """Its line number in the file, from 1."""
    tid: int | None
    """The task, as the leader says; None on a line without one (``-ff``, or stderr while one task runs)."""
    clock: Clock
    kind: LineKind
    name: str = ""
    """The call's or the signal's name."""
    text: str = ""
    """A call's arguments as printed (the part on this line), or a signal's siginfo."""
    result: Result | None = None
    """A call's result, on a ``call`` or ``resumed`` line."""
    died: bool = False
    """A resumed call that never returned because its task ended (``<... X resumed> <unfinished ...>) = ?``)."""
    code: int | None = None
    """``+++ exited with N +++``."""
    signal: str | None = None
    """``+++ killed by SIG +++``."""
    core_dumped: bool = False
    former: int | None = None
    """``+++ superseded by execve in pid N +++``: the thread that exec'd."""
    injected: bool = False
    in_file_form: bool = False
    """Its pid led it as ``strace -f -o`` writes it (``PID  ``), in a file where every line has one."""


def is_event_line(text: str) -> bool:
    """Whether a line tells something about a task (the rest: blank lines, ``-k`` frames, strace's own messages)."""
    return bool(text.strip()) and forms.NOT_EVENTS.match(text) is None


def read_line(number: int, text: str, *, leader: bool) -> Line:
    """Cut one event line; ``leader``: the log was written with ``-f`` into one file, so a pid may lead it."""
    rest, tid, in_file_form = text, None, False
    if leader:
        found = forms.STDERR_LEADER.match(rest)
        if found is None:
            found = forms.FILE_LEADER.match(rest)
            in_file_form = found is not None
        if found is not None:
            tid, rest = int(found["pid"]), rest[found.end() :]
    clock, rest = _clock(rest)
    skipped = forms.POINTER_OR_NUMBER.match(rest)
    if skipped is not None:
        rest = rest[skipped.end() :]
    return _body(number, tid, clock, rest, in_file_form)


def _clock(text: str) -> tuple[Clock, str]:
    absolute, of_day, relative = None, False, None
    epoch = forms.EPOCH_TIME.match(text)
    day = None if epoch else forms.DAY_TIME.match(text)
    if epoch is not None:
        absolute, text = float(epoch["epoch"]), text[epoch.end() :]
    elif day is not None:
        absolute = int(day["hours"]) * 3600 + int(day["minutes"]) * 60 + float(day["seconds"])
        of_day, text = True, text[day.end() :]
    since = forms.RELATIVE_TIME.match(text)
    # -r alone prints a bare number; after a -t time, in (+ ...).  A bare number after an absolute time is no -r.
    if since is not None and (since["after"] is not None or absolute is None):
        relative, text = float(since["after"] or since["alone"]), text[since.end() :]
    if absolute is None and relative is None:
        return NO_CLOCK, text
    return Clock(absolute, of_day, relative), text


def _body(number: int, tid: int | None, clock: Clock, body: str, in_file_form: bool) -> Line:
    def make(kind: LineKind, **parts: Any) -> Line:
        return Line(number, tid, clock, kind, in_file_form=in_file_form, **parts)

    if body.startswith("+++ "):
        if found := forms.EXITED.match(body):
            return make("exited", code=int(found["code"]))
        if found := forms.KILLED.match(body):
            return make("killed", signal=found["signal"], core_dumped=bool(found["core"]))
        if found := forms.SUPERSEDED.match(body):
            return make("superseded", former=int(found["former"]))
        raise LineError(
            f"'{body}' is no end of a task strace writes ('+++ exited with N +++', '+++ killed by SIG +++')"
        )
    if body.startswith("--- "):
        if found := forms.SIGNAL.match(body):
            return Line(
                number, tid, clock, "signal", name=found["name"], text=found["info"], injected=bool(found["injected"])
            )
        if found := forms.STOPPED.match(body):
            return make("stopped", name=found["name"])
        raise LineError(f"'{body}' is no signal line strace writes ('--- SIGCHLD {{si_signo=...}} ---')")
    if found := forms.RESUMED.match(body):
        rest = found["rest"]
        if rest.startswith(forms.UNFINISHED + ")"):  # the task ended in the call
            rest = rest[len(forms.UNFINISHED) :]
            arguments, result = _call_end(rest)
            return make("resumed", name=found["name"], text="", result=result, died=True)
        arguments, result = _call_end(rest)
        return make("resumed", name=found["name"], text=arguments, result=result)
    if found := forms.CALL.match(body):
        rest = found["rest"]
        if rest.endswith(forms.UNFINISHED):
            return make("unfinished", name=found["name"], text=rest[: -len(forms.UNFINISHED)])
        arguments, result = _call_end(rest)
        return make("call", name=found["name"], text=arguments, result=result)
    raise LineError(
        f"cannot read '{_cut(body)}' as strace -f output: expected 'NAME(ARGS) = RESULT', "
        "'<... NAME resumed>', '--- SIG... ---' or '+++ ... +++'"
    )


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def closing_paren(text: str) -> int:
    """Where the arguments end: the first ``)`` outside brackets, braces, quotes and comments; -1 if none."""
    depth, index, size = 0, 0, len(text)
    while index < size:
        char = text[index]
        if char == '"':
            index += 1
            while index < size and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = size if end < 0 else end + 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return index if char == ")" else -1
            depth -= 1
        index += 1
    return -1


def _call_end(rest: str) -> tuple[str, Result]:
    """The arguments left on a line and its result: ``ARGS) = RESULT``."""
    end = closing_paren(rest)
    if end < 0:
        raise LineError(f"the call's arguments never close: '{_cut(rest)}' (a line cut short?)")
    after = rest[end + 1 :].lstrip(" ")
    if not after.startswith("= "):
        if not after:
            raise LineError("the call has no result after its ')' (a line cut short?)")
        raise LineError(f"expected ' = RESULT' after the call's ')', got '{_cut(after)}'")
    return rest[:end], read_result(after[2:])


def read_result(text: str) -> Result:
    """``4``, ``-1 EINTR (Interrupted system call)``, ``? ERESTARTSYS (...)``, ``0 (Timeout)``, with ``-T``'s time."""
    duration = None
    if found := forms.DURATION.search(text):
        duration, text = float(found["seconds"]), text[: found.start()]
    injected = False
    for mark in (forms.INJECTED, forms.DELAYED):
        if text.endswith(mark):
            injected, text = injected or mark == forms.INJECTED, text[: -len(mark)]
    value = forms.RESULT_VALUE.match(text)
    if value is None:
        raise LineError(f"cannot read the result '{_cut(text)}': expected a number, '?' or '-1 ENAME (...)'")
    rest = text[value.end() :]
    number = None if value["value"] == "?" else int(value["value"], 0)
    errno = None
    if found := forms.RESULT_ERRNO.match(rest):
        errno, rest = found["errno"], rest[found.end() :]
    note = None
    if rest.startswith(" (") and rest.endswith(")"):
        note, rest = rest[2:-1], ""
    if rest:
        raise LineError(f"cannot read '{_cut(rest)}' after the result '{value.group()}'")
    return Result(number, value["value"].startswith("0x"), errno, note, injected, duration)
