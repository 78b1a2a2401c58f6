"""Python frames: which line of Python code made a call, as read from a stopped CPython tracee.

With ``--python-frames`` the tracer reads the calling thread's CPython stack
at each syscall entry, signal delivery and spawn, and the event keeps it as
``python``: a tuple of :class:`Frame`, innermost first.  An event that has no
stack (the option is off, the task does not run CPython, the thread runs no
Python code, or its interpreter version is not supported) has ``python``
None; the reader never guesses a frame.

Which frames a reader cares about is decided here, from the path alone, so
that a saved trace reads the same as a live one: a frame is in the standard
library when its file sits under a ``lib/pythonX.Y/`` directory outside
``site-packages``, or is one of CPython's frozen modules (``<frozen ...>``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: A file of the standard library: under lib/pythonX.Y/ (or lib64/...), not in an installed package.
_STDLIB = re.compile(r"/lib(?:64)?/python3\.\d+/(?!(?:site|dist)-packages/)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One Python frame: where a function was when the call was made."""

    file: str
    """The code's file name as CPython knows it (``co_filename``), usually absolute."""
    line: int
    """The line being run in that frame (from ``co_linetable``); 0 when the code has no line there."""
    function: str
    """The function's name (``co_name``); ``<module>`` for a module's top level."""

    def __str__(self) -> str:
        return f"{self.file.rsplit('/', 1)[-1]}:{self.line} in {self.function}"

    @property
    def in_stdlib(self) -> bool:
        """Whether the frame is CPython's own code (the standard library or a frozen module)."""
        return self.file.startswith("<frozen ") or _STDLIB.search(self.file) is not None


Stack = tuple[Frame, ...]
"""A thread's Python stack, innermost frame first."""


def user_frame(stack: Sequence[Frame]) -> Frame | None:
    """The innermost frame outside the standard library: the user's code that led to the call."""
    return next((frame for frame in stack if not frame.in_stdlib), None)


def shown_frames(stack: Sequence[Frame]) -> tuple[Frame, ...]:
    """The frames a one-line summary shows: the user's frame, preceded by the innermost one when that is CPython's."""
    user = user_frame(stack)
    if not stack:
        return ()
    if user is None:
        return (stack[0],)
    return (user,) if stack[0] == user else (stack[0], user)


def summary(stack: Sequence[Frame]) -> str:
    """``FILE:LINE in FUNCTION`` of :func:`shown_frames`, innermost first, joined by `` <- ``."""
    return " <- ".join(str(frame) for frame in shown_frames(stack))


def stack_to_json(stack: Sequence[Frame]) -> list[dict[str, Any]]:
    """The JSON Lines form: a list of ``{"file", "line", "function"}``, innermost first."""
    return [{"file": frame.file, "line": frame.line, "function": frame.function} for frame in stack]


def stack_from_json(value: Any) -> Stack:
    """Read the JSON Lines form back; a ValueError says what is malformed."""
    if not isinstance(value, list):
        raise ValueError(f"'python' must be a list of frames, got {value!r}")
    frames = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"file", "line", "function"}
            or not isinstance(item["file"], str)
            or not isinstance(item["function"], str)
            or not isinstance(item["line"], int)
            or isinstance(item["line"], bool)
        ):
            raise ValueError(f"a frame must be {{'file': str, 'line': int, 'function': str}}, got {item!r}")
        frames.append(Frame(file=item["file"], line=item["line"], function=item["function"]))
    return tuple(frames)


def matches(stack: Sequence[Frame], where: str) -> bool:
    """Whether a frame of ``stack`` is ``where``: a function name, ``FILE:LINE`` or ``FILE``.

    A file is named by its base name or any suffix of its path (``myserver.py``, ``app/views.py``).
    """
    file, _, line = where.rpartition(":")
    if file and line.isdigit():
        return any(frame.line == int(line) and _same_file(frame.file, file) for frame in stack)
    if where.endswith(".py"):
        return any(_same_file(frame.file, where) for frame in stack)
    return any(frame.function == where for frame in stack)


def _same_file(path: str, wanted: str) -> bool:
    return path == wanted or path.endswith("/" + wanted.lstrip("/"))
