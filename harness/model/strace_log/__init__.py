"""strace logs as traces: ``strace -f`` text, from any machine, read into the events the tracer records.

A log written by ``strace -f -o LOG`` (or ``-f`` on stderr, or ``-ff -o
LOG``'s ``LOG.PID`` files) is read by :func:`read_strace_log` into a
:class:`~harness.model.trace.Trace`, so that ``check --trace``, ``explain``,
``report``, ``show`` and ``diff`` take it as they take a JSON Lines trace.
The layout, one module per job:

* :mod:`.forms`: every text form strace writes, with where in strace's
  sources it comes from;
* :mod:`.lines`: one line cut into its task, times and event;
* :mod:`.values` and :mod:`.arguments`: strace's text of a value, and each
  kind of argument of the syscall catalogue read back from it;
* :mod:`.assemble`: the lines joined into events, the tasks named as roles.

Anything this reader cannot read is a :class:`~harness.model.trace.TraceFileError`
naming the file and the line; nothing is skipped or guessed.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from pathlib import Path

from harness.model.record import replace
from harness.model.strace_log import assemble, forms
from harness.model.strace_log.assemble import Assembly, LogError, created_tasks
from harness.model.strace_log.lines import Line, LineError, is_event_line, read_line
from harness.model.trace import MAX_TRACE_BYTES, Trace, TraceFileError

__all__ = ["is_strace_log", "looks_like_strace", "read_strace_log", "strace_files"]

#: How much of a file is read to tell an strace log by its first event line.
_SNIFFED = 64 * 1024
#: ``-ff``'s files: ``LOG.PID``.
_PER_TASK = re.compile(r"\.(?P<pid>\d+)$")


def looks_like_strace(text: str) -> bool:
    """Whether the first line that tells an event reads as strace's (a JSON Lines trace's ``{...}`` does not)."""
    for line in text.splitlines():
        if not is_event_line(line):
            continue
        if line.lstrip().startswith("{"):
            return False
        try:
            read_line(1, line, leader=True)
        except LineError:
            return False
        return True
    return False


def strace_files(path: str | Path) -> list[tuple[Path, int | None]]:
    """The files a log is in, with the task each one is of (``-ff``); empty when ``path`` names no strace log.

    ``path`` is one file (``-o LOG``, or stderr saved), the prefix given to
    ``-ff -o LOG`` (``LOG`` itself absent, ``LOG.PID`` present), or a
    directory holding ``-ff``'s files and nothing else of strace's.
    """
    path = Path(path)
    if path.is_file():
        return [(path, None)] if _sniff(path) else []
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and _PER_TASK.search(p.name) and _sniff(p))
    elif not path.exists() and path.parent.is_dir():
        found = sorted(
            p for p in path.parent.glob(f"{glob_escape(path.name)}.*") if _PER_TASK.search(p.name) and _sniff(p)
        )
    else:
        found = []
    return [(p, int(match["pid"])) for p in found if (match := _PER_TASK.search(p.name))]


def glob_escape(name: str) -> str:
    """A file name with glob's special characters taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def is_strace_log(path: str | Path) -> bool:
    """Whether ``path`` names an strace log: a file of its text, or ``-ff``'s files by prefix or directory."""
    return bool(strace_files(path))


def _sniff(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFFED)
    except OSError:
        return False
    return looks_like_strace(head.decode("utf-8", "replace"))


def read_strace_log(path: str | Path) -> Trace:
    """The trace an strace log tells; a line it cannot read is a TraceFileError naming its file and number."""
    files = strace_files(path)
    if not files:
        raise TraceFileError(str(path), 0, "not an strace log: no line reads as strace -f output")
    per_file = [(name, pid, _read_lines(name, pid)) for name, pid in files]
    if len(per_file) == 1:
        name, _, lines = per_file[0]
        return _assembled(lines, {id(line): str(name) for line in lines})
    where = {id(line): str(name) for name, _, lines in per_file for line in lines}
    return _assembled(_merged([lines for _, _, lines in per_file]), where)


def _read_lines(path: Path, pid: int | None) -> list[Line]:
    from harness.model.files import Unreadable, read_bounded

    try:
        text = read_bounded(path, MAX_TRACE_BYTES).decode("utf-8", "backslashreplace")
    except Unreadable as refused:
        raise TraceFileError(str(path), 0, f"cannot read the strace log: {refused.reason}") from None
    lines = []
    head: tuple[int, str] | None = None  # a line cut by strace's "Process N attached", waiting for its rest
    for number, raw in enumerate(text.splitlines(), start=1):
        if head is not None:
            number, raw, head = head[0], head[1] + raw, None
        spliced = forms.SPLICED.match(raw) if is_event_line(raw) else None  # a message on a line of its own: none
        if spliced is not None:
            head = (number, spliced["head"])
            continue
        if not is_event_line(raw):
            continue
        try:
            line = read_line(number, raw, leader=pid is None)
        except LineError as error:
            raise TraceFileError(str(path), number, f"{error}; fix or remove the line") from None
        lines.append(line if pid is None else _of_task(line, pid))
    if head is not None:
        raise TraceFileError(
            str(path), head[0], "the log ends inside a line strace's message cut; the log is cut short"
        )
    return _with_tasks(lines, path) if pid is None else lines


def _with_tasks(lines: list[Line], path: Path) -> list[Line]:
    """Each line with its task: strace on stderr prints no pid while a single task is traced (its ``nprocs``).

    A line without one is the only task's alive then.  The first task is the
    first one whose pid shows that no traced call created; one that never
    shows it (a log of one task) is task 0.
    """
    if all(line.tid is not None for line in lines):
        return lines
    written = next((line for line in lines if line.in_file_form), None)
    stray = next((line for line in lines if line.tid is None), None)
    if written is not None and stray is not None:  # print_pid_pfx (src/strace.c): -f -o leads every line
        raise TraceFileError(
            str(path),
            stray.number,
            f"a line without a pid in a log strace -f -o wrote with one on every line (line {written.number}): "
            "lines of two logs mixed?",
        )
    children = {
        line.result.value
        for line in lines
        if line.name in assemble.SPAWNS and line.result is not None and line.result.value and not line.result.errno
    }
    root = next((line.tid for line in lines if line.tid is not None and line.tid not in children), 0)
    alive: dict[int, None] = {root: None}
    resolved: list[Line] = []
    for line in lines:
        tid = line.tid
        if tid is None:
            if len(alive) != 1:
                raise TraceFileError(
                    str(path), line.number, "a line without a pid while several tasks run: two logs mixed?"
                )
            tid = next(iter(alive))
        alive[tid] = None  # a new task counts from its first line: strace counts it once it has seen it stop
        if line.kind in ("exited", "killed"):
            alive.pop(tid, None)
        resolved.append(replace(line, tid=tid))
    return resolved


def _of_task(line: Line, pid: int) -> Line:
    return replace(line, tid=pid)


def _merged(files: list[list[Line]]) -> list[Line]:
    """``-ff``'s files as one stream: by their ``-tt``/``-ttt`` times, else each task's lines after its creation.

    Without absolute times, nothing says how two tasks' lines interleaved;
    each new task's lines then come right after the line where its
    creator's call returned its id (a causal order, not the real one).
    """
    if all(line.clock.absolute is not None for lines in files for line in lines):
        keyed = [
            [((line.clock.absolute or 0.0), index, order, line) for order, line in enumerate(lines)]
            for index, lines in enumerate(files)
        ]
        return [item[3] for item in heapq.merge(*keyed, key=lambda item: item[:3])]
    by_task = {lines[0].tid: lines for lines in files if lines}
    children = created_tasks(line for lines in files for line in lines)
    roots = [tid for tid in by_task if tid not in children]
    merged: list[Line] = []

    def walk(tid: int | None) -> Iterator[Line]:
        for line in by_task.pop(tid, []):
            yield line
            if line.result is not None and line.result.value in children and line.result.errno is None:
                child = line.result.value
                if children[child][0] == tid:
                    yield from walk(child)

    for root in sorted(roots, key=lambda tid: tid or 0):
        merged.extend(walk(root))
    for rest in list(by_task):
        merged.extend(walk(rest))
    return merged


def _assembled(lines: list[Line], where: dict[int, str]) -> Trace:
    children = created_tasks(lines)
    root = next((line.tid for line in lines if line.tid is not None and line.tid not in children), None)
    assembly = Assembly(children, root)
    current: Line | None = None
    try:
        for current in lines:
            assembly.line(current)
        events = assembly.finish()
    except LogError as error:
        source = where.get(id(current), "?") if current is not None else "?"
        raise TraceFileError(source, error.line, f"{error.message}") from None
    return Trace.recorded(events)
