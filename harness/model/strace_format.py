"""Render events as text in strace's reading habits.

A strace user should read the output at once: ``accept4(3, ...) = 4``,
``= ? ERESTARTSYS (To be restarted if SA_RESTART is set)``,
``--- SIGCHLD {...} ---``, ``+++ exited with 0 +++``, and a blocking call
split into ``<unfinished ...>`` and ``<... accept4 resumed>`` when other
tasks act while it waits.  Each line starts with ``[pid N role]``; in
strace's own style (:data:`Style`, ``--strace-log``), with the task's id as
``strace -f -o`` writes it, and only the lines strace itself writes.

:class:`TextRenderer` works on a stream of points (a call's entry, then
completed events); the same class renders a live run and a trace read back
from JSON Lines (:func:`render_trace`), so both print the same text.  How
each argument inside a call's parentheses prints is :mod:`harness.model.strace_args`'s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.model import kernel, kernel_abi
from harness.model.events import (
    Event,
    ExecEvent,
    ExitEvent,
    SignalEvent,
    SpawnEvent,
    SyscallEntry,
    SyscallEvent,
)
from harness.model.frames import Stack, summary
from harness.model.strace_args import (
    DEFAULT_NOTATION,
    Notation,
    arg_text,
    format_args,
    raw_args_text,
    siginfo_text,
)
from harness.model.syscalls import catalogued
from harness.model.syscalls.entry import Arg

Point = SyscallEntry | Event

#: How a line names its task: ``harness``, ``[pid 1234 main.1] `` (with Python frames and spawn lines);
#: ``strace``, strace's own ``-f -o`` text (``printleader``, src/strace.c: ``"%-5u "``, the task id and spaces
#: to five columns and one more), without what strace never prints (spawn lines, Python frames), and an
#: exec as the ``execve(...) = 0`` line strace prints at its end, so that tools made for strace logs read it.
Style = Literal["harness", "strace"]


@dataclass(frozen=True, slots=True)
class TimeColumns:
    """Which times a text line shows, as strace's options spell them (strace(1), 6.1).

    A line starts with its time (``-t``, ``-tt``, ``-ttt``) and the time since
    the previous line (``-r``), after its ``[pid N role]`` prefix as strace
    ``-f`` prints it; a call's line ends with the time spent in it (``-T``).
    A trace recorded before times were kept prints as without them.
    """

    absolute: Literal[0, 1, 2, 3] = 0
    """How many ``-t``: 1 ``10:18:39``, 2 ``10:18:39.405410``, 3 ``1796120319.405410`` (local time)."""
    relative: bool = False
    """``-r``: seconds since the previous line, ``     0.000317`` (``(+     0.000317)`` after a ``-t`` time)."""
    durations: bool = False
    """``-T``: ``<0.000011>`` at the end of a call's line, from its entry to its return."""

    @property
    def any(self) -> bool:
        """Whether any time is shown at all."""
        return bool(self.absolute or self.relative or self.durations)


NO_TIMES = TimeColumns()


def _split_us(microseconds: int) -> str:
    sign = "-" if microseconds < 0 else ""  # only a crafted trace goes back in time
    seconds, fraction = divmod(abs(microseconds), 1_000_000)
    return f"{sign}{seconds}.{fraction:06d}"


def duration_text(seconds: float) -> str:
    """``-T``'s form of a duration, ``<0.000123>``."""
    return f"<{_split_us(round(seconds * 1e6))}>"


def _result_notes(event: SyscallEvent, notation: Notation) -> str:
    """What strace adds after a result: `` (Timeout)``, or what came back, `` ([{fd=3, revents=POLLIN}])``."""
    entry = catalogued(event.name)
    if entry is None or event.errno is not None or event.ret is None or event.abi is not None:
        return ""
    if entry.timeout_note and event.ret == 0:
        return " (Timeout)"
    notes, shown = [], False
    for arg in entry.args:
        if arg.result_note and arg.name in event.args:
            text = arg_text(arg.kind, event.args[arg.name], event.args, notation)
            if arg.name == "left":
                text = f"left {text}"
            # select notes what it found even when its sets say nothing: "= 1 ()" (strace's decode_select);
            # poll notes only the descriptors with events.
            shown = shown or arg.kind == "ready_fd_sets"
            if text and text != "[]":
                notes.append(text)
    return f" ({', '.join(notes)})" if notes or shown else ""


def format_result(event: SyscallEvent, notation: Notation = DEFAULT_NOTATION) -> str:
    """The `` = ...`` part of a call's line, with strace's ``?`` for values user space never sees."""
    if event.ret is None:
        return " = ?"
    injected = " (INJECTED)" if event.injected else ""  # strace's own mark for an injected fault
    if event.errno is None:
        returned = event.args.get("returned")
        value = hex(event.ret) if isinstance(returned, dict) and returned.get("hex") else event.ret
        return f" = {value}{_result_notes(event, notation)}{injected}"
    text = kernel.errno_text(event.errno)
    value = "?" if kernel.is_restart_code(event.errno) else "-1"
    return f" = {value} {event.errno} ({text}){injected}"


def _prefix(point: Point, style: Style = "harness") -> str:
    return f"{point.tid:<5} " if style == "strace" else f"[pid {point.tid} {point.role}] "


def _exec_call(event: ExecEvent) -> str:
    """An exec as strace's line of it; the environment, which the trace does not keep, as a comment."""
    argv = ", ".join(json.dumps(word) for word in event.argv)
    return f"execve({json.dumps(event.filename)}, [{argv}], /* environment not recorded */) = 0"


def _entry_args(event: SyscallEvent) -> dict[str, Any]:
    """What the call's entry decoded: its inputs, and the outputs its entry gave (a peer's NULL pointers)."""
    entry = catalogued(event.name)
    if entry is None:
        return dict(event.args)
    at_entry = entry.printed_at_entry(event.args)
    return {key: value for key, value in event.args.items() if key in at_entry}


def _first_pending(name: str, args: Mapping[str, Any]) -> Arg | None:
    """The first argument a call entered with ``args`` still has to show at its exit; None when it showed all.

    Where its separator goes is strace's: a named argument's comes with its
    name at the exit (``<... clone resumed>, child_tidptr=``), what the kernel
    wrote into a struct follows it (``clone3({...} <unfinished ...>``, then
    `` => {...}``), and any other's ends the entry (``wait4(-1,  <unfinished ...>``).
    """
    entry = catalogued(name)
    if entry is None:
        return None
    at_entry = entry.printed_at_entry(args)
    return next(
        (
            arg
            for arg in entry.args
            if arg.output and arg.name not in at_entry and arg.shown_in is None and not arg.result_note
        ),
        None,
    )


def format_event(event: Event, notation: Notation = DEFAULT_NOTATION) -> str:
    """One event as a single strace-like line, prefix included."""
    return _prefix(event) + _body(event, notation)


def _body(event: Event, notation: Notation) -> str:
    match event:
        case SyscallEvent():
            return f"{event.name}({_call_args(event, notation=notation)}){format_result(event, notation)}"
        case SignalEvent():
            injected = " (INJECTED)" if event.injected else ""
            return f"--- {event.name} {siginfo_text(event.siginfo)}{injected} ---"
        case SpawnEvent():
            kind = "thread" if event.thread else "process"
            return f"+++ spawned {kind} {event.child_role} [pid {event.child_tid}] via {event.via} +++"
        case ExecEvent():
            return f"+++ exec {json.dumps(event.filename)} {json.dumps(list(event.argv))} +++"
        case ExitEvent():
            if event.signal is not None:
                core = " (core dumped)" if event.core_dumped else ""
                return f"+++ killed by {event.signal}{core} +++"
            return f"+++ exited with {event.code} +++"


def _call_args(point: SyscallEvent | SyscallEntry, part: str = "all", notation: Notation = DEFAULT_NOTATION) -> str:
    """A call's arguments as text: decoded by the catalogue, or another ABI's raw registers.

    The raw ones print as strace prints a call it has no decoder for:
    numbers, and addresses in hex.
    """
    if point.abi is None:
        return format_args(point.name, point.args, part=part, notation=notation)
    if part == "output":
        return ""
    return raw_args_text(point.args.values())


def _where(python: Stack | None, *, full: bool) -> str:
    """What ends a line when its event has a Python stack: `` <- FILE:LINE in FUNCTION``.

    With ``full``, the whole stack follows, innermost first, one frame a line.
    """
    if not python:
        return ""
    # Names and paths come from the tracee's memory: a newline or an escape sequence in them must not forge a
    # line or reach the terminal, in live output as in `harness show`.
    text = f" <- {escape_controls(summary(python))}"
    if full:
        text += "".join(
            f"\n    at {escape_controls(frame.file)}:{frame.line} in {escape_controls(frame.function)}"
            for frame in python
        )
    return text


class TextRenderer:
    """Turns the stream of entries and events into strace-like text, as it happens.

    Like strace, an entry is printed at once without its end of line: the
    next point shows whether the call returned at once (the line is
    completed) or blocked while other tasks acted (``<unfinished ...>`` now,
    ``<... name resumed>`` at its return).  Chunks of text come out, so that
    a person watching a live run sees a blocking call the moment it starts.

    An event read with its Python stack ends with `` <- FILE:LINE in FUNCTION``
    (see :func:`harness.model.frames.summary`); ``full_stacks`` (``-v``) adds
    the whole stack below it.  ``notation`` says how much of the structs to show.
    """

    def __init__(
        self,
        times: TimeColumns = NO_TIMES,
        *,
        start_realtime: float | None = None,
        full_stacks: bool = False,
        notation: Notation = DEFAULT_NOTATION,
        style: Style = "harness",
    ) -> None:
        self._style = style
        self._full = full_stacks
        self._notation = notation
        self._open: SyscallEntry | None = None
        self._unfinished: set[int] = set()
        self._times = times
        # CLOCK_REALTIME at time 0: given, or from the first point that has it (a live run's first).
        self._anchor_us = round(start_realtime * 1e6) if start_realtime is not None else None
        self._last_us: int | None = None  # the previous line's time, for -r
        self._modes: dict[int, str] = {}  # each process's ABI at its last call shown, x86_64 until told

    def feed(self, point: Point) -> str:
        """Take the next point; return the text it adds."""
        if point.start_realtime is not None and self._anchor_us is None:
            self._anchor_us = round(point.start_realtime * 1e6)
        if self._style == "strace" and isinstance(point, SpawnEvent):
            return ""  # strace prints nothing of a new task but its own lines: a call held open stays so
        held, self._open = self._open, None
        where = self._where
        if (
            held is not None
            and isinstance(point, SyscallEvent)
            and point.tid == held.tid
            and point.enter_seq == held.seq
        ):
            notation = self._notation
            rest = _call_args(point, part="output", notation=notation)
            shown = _call_args(held, part="input", notation=notation)
            separator = ", " if rest and not rest.startswith(" => ") and shown else ""
            return f"{separator}{rest}){format_result(point, notation)}{self._end(point)}{where(point.python)}\n"
        text = self._close_unfinished(held) if held is not None else ""
        if isinstance(point, SyscallEntry | SyscallEvent) and point.tid not in self._unfinished:
            text += self._mode(point)
        if isinstance(point, SyscallEntry):
            self._open = point
            return text + f"{self._start(point)}{point.name}({_call_args(point, 'input', self._notation)}"
        if isinstance(point, SyscallEvent) and point.tid in self._unfinished:
            self._unfinished.discard(point.tid)
            # A call that never returned: strace says its outputs never came (" <unfinished ...>"), and says
            # nothing more for a call without any, as exit_group (print_event_exit, src/strace.c).
            if point.ret is not None:
                shown = _call_args(point, "output", self._notation)
                first = _first_pending(point.name, _entry_args(point)) if point.abi is None else None
                if shown and first is not None and first.named:
                    shown = ", " + shown
            else:
                shown = " <unfinished ...>" if _first_pending(point.name, point.args) is not None else ""
            resumed = f"<... {point.name} resumed>{shown}){format_result(point, self._notation)}"
            return text + self._start(point) + resumed + self._end(point) + where(point.python) + "\n"
        if isinstance(point, ExecEvent) and point.former_tid is not None:  # strace's line for the leader, first
            text += f"{self._start(point)}+++ superseded by execve in pid {point.former_tid} +++\n"
        python = point.python if not isinstance(point, ExecEvent | ExitEvent) else None
        if self._style == "strace" and isinstance(point, ExecEvent):
            body = _exec_call(point)
        else:
            body = _body(point, self._notation)
        return text + self._start(point) + body + self._end(point) + where(python) + "\n"

    def _where(self, python: Stack | None) -> str:
        """A line's Python frames (none in strace's style, which has no place for them)."""
        return "" if self._style == "strace" else _where(python, full=self._full)

    def _mode(self, point: SyscallEntry | SyscallEvent) -> str:
        """The line strace prints when a process makes a call of another ABI than its last one shown."""
        abi = point.abi or "x86_64"
        if self._modes.get(point.pid, "x86_64") == abi:
            return ""
        self._modes[point.pid] = abi
        return f"[ Process PID={point.pid} runs in {kernel_abi.ABI_MODES[abi]} mode. ]\n"

    def _start(self, point: Point) -> str:
        """A line's beginning: the task, then the times asked for (strace -f's order)."""
        times = self._times
        if not (times.absolute or times.relative) or point.time is None:
            return _prefix(point, self._style)
        now = round(point.time * 1e6)
        stamp = ""
        if times.absolute and self._anchor_us is not None:
            wall = self._anchor_us + now
            seconds, fraction = divmod(wall, 1_000_000)
            if times.absolute == 3:
                stamp = f"{seconds}.{fraction:06d} "
            else:
                clock = time.strftime("%H:%M:%S", time.localtime(seconds))
                stamp = f"{clock}.{fraction:06d} " if times.absolute == 2 else f"{clock} "
        if times.relative:
            delta = _split_us(now - self._last_us if self._last_us is not None else 0).rjust(13)
            stamp += f"(+{delta}) " if stamp else f"{delta} "
        self._last_us = now
        return _prefix(point, self._style) + stamp

    def _end(self, point: Point) -> str:
        """A call's line's end: ``-T``'s time spent in it (none for a call that never returned, as strace)."""
        shown = self._times.durations and isinstance(point, SyscallEvent) and point.ret is not None
        if shown and isinstance(point, SyscallEvent) and point.duration is not None:
            return " " + duration_text(point.duration)
        return ""

    def flush(self) -> str:
        """Text still owed at the end of a stream (a call whose return never came)."""
        held, self._open = self._open, None
        return self._close_unfinished(held) if held is not None else ""

    def _close_unfinished(self, entry: SyscallEntry) -> str:
        self._unfinished.add(entry.tid)
        where = self._where(entry.python)
        if not entry.args:
            return f"<unfinished ...>{where}\n"
        # strace ends an entry whose outputs are still to come with the next argument's separator, then the mark.
        first = _first_pending(entry.name, entry.args) if entry.abi is None else None
        ends_with_separator = first is not None and not first.named and first.kind != "clone_args_written"
        return (",  " if ends_with_separator else " ") + f"<unfinished ...>{where}\n"


def points_of(events: Iterable[Event]) -> Iterator[Point]:
    """Rebuild the live stream of a recorded trace: each call's entry at its ``enter_seq``."""
    points: list[tuple[int, Point]] = []
    for event in events:
        if isinstance(event, SyscallEvent):
            entered = None if event.time is None or event.duration is None else max(event.time - event.duration, 0.0)
            entry = SyscallEntry(
                seq=event.enter_seq,
                pid=event.pid,
                tid=event.tid,
                role=event.role,
                time=entered,
                name=event.name,
                args=_entry_args(event),
                python=event.python,
            )
            points.append((event.enter_seq, entry))
        points.append((event.seq, event))
    points.sort(key=lambda item: item[0])
    return (point for _, point in points)


#: C0 and C1 control characters and DEL, written as ``\\xNN``: a trace read back from a file may be
#: crafted, and a terminal obeys the escape sequences it prints.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def escape_controls(text: str) -> str:
    """Text safe to print on a terminal: every control character shown as backslash-x and two hex digits."""
    return text.translate(_CONTROLS)


def render_trace(
    events: Iterable[Event],
    times: TimeColumns = NO_TIMES,
    *,
    full_stacks: bool = False,
    notation: Notation = DEFAULT_NOTATION,
) -> list[str]:
    """All the lines of a recorded trace, as a live run would have printed them, safe for a terminal."""
    events = list(events)
    anchor = next((event.start_realtime for event in events if event.start_realtime is not None), None)
    renderer = TextRenderer(times, start_realtime=anchor, full_stacks=full_stacks, notation=notation)
    text = "".join(renderer.feed(point) for point in points_of(events)) + renderer.flush()
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [escape_controls(line) for line in lines]
