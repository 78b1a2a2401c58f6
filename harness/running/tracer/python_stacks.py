"""Read a stopped thread's CPython stack from its process's memory, as py-spy and pystack do.

Why this reader, and not a dependency:

* **pystack** (Bloomberg) reads remote CPython stacks well, but it is
  Apache-2.0, which is held incompatible with this project's GPL-2.0 (through
  python-ptrace); and it expects to attach with ptrace itself, which a task
  that already has a tracer (this harness) refuses (EPERM).  Its approach is
  the one followed here; none of its code is used.
* **pyelftools** (public domain) would parse the ELF files, but only three
  facts of them are needed (see :mod:`.elf_symbols`), in ~80 lines of
  ``struct``.
* **Offsets**: CPython 3.13 publishes its structure offsets in
  ``_Py_DebugOffsets`` at the start of ``_PyRuntime``; 3.11 and 3.12 publish
  none.  One table per version (below) covers all three the same way; each
  row was taken with ``offsetof`` from that version's own internal headers,
  and a test recompiles those headers where they are installed and compares.
  For 3.13 the interpreter's ``_Py_DebugOffsets`` are read at start and must
  agree with the table (:func:`debug_offsets_disagree`).

How (CPython's ``Include/internal/pycore_{runtime,interp,frame,code}.h``):

1. find the file that defines ``_PyRuntime`` (the executable, or its
   ``libpython3.X.so``) in ``/proc/PID/maps``; its ``Py_Version`` (3.11+)
   names the version, hence the table; an older or newer version gets no
   frames and one note;
2. ``_PyRuntime.interpreters.head`` -> each interpreter's ``threads.head`` ->
   the ``PyThreadState`` whose ``native_thread_id`` is the stopped task's tid;
3. its current ``_PyInterpreterFrame`` (3.11, 3.12: through ``cframe``) and
   each ``previous`` one: ``f_code`` (``f_executable`` in 3.13) gives
   ``co_filename``, ``co_name`` and, with the frame's instruction pointer,
   the line from ``co_linetable`` (the format of
   ``Objects/locations.md``); frames owned by the C stack (3.12+ shims) are
   not Python code and are skipped.

Every object read is checked against its type (``PyCode_Type``,
``PyUnicode_Type``, ``PyBytes_Type``): anything unexpected gives no stack,
never a wrong frame.  The task is stopped, so its own frames do not move
while they are read; other threads of the process may run, which is why the
thread list walk is bounded and checked.

Nothing is written into the tracee and nothing else attaches: the memory is
read through ``/proc/PID/mem``, which the tracer may read (proc(5)).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.model.frames import Frame, Stack
from harness.running.tracer.elf_symbols import ET_DYN, ElfSymbols, read_symbols

_WANTED = frozenset({"_PyRuntime", "Py_Version", "PyCode_Type", "PyUnicode_Type", "PyBytes_Type"})
_MAX_THREADS = 4096
_MAX_FRAMES = 4096
_PAGE = 4096
_PAGE_MASK = ~(_PAGE - 1)
_FRAME_OWNED_BY_CSTACK = 3  # 3.12+: a shim frame of the C stack, not Python code


@dataclass(frozen=True, slots=True)
class _Offsets:
    """Where each needed field sits in one CPython minor version's structures (x86_64)."""

    runtime_interpreters_head: int
    interp_next: int
    interp_threads_head: int
    tstate_next: int
    tstate_native_thread_id: int
    tstate_frame: tuple[int, ...]
    """The pointer chain from a thread state to its current frame (3.11, 3.12: through ``cframe``)."""
    frame_code: int
    frame_previous: int
    frame_instr: int
    frame_owner: int
    code_firstlineno: int
    code_filename: int
    code_name: int
    code_linetable: int
    code_adaptive: int
    unicode_length: int
    unicode_state: int
    unicode_ascii_size: int
    unicode_compact_size: int
    bytes_size: int
    bytes_data: int


_COMMON = {
    "interp_next": 0,
    "tstate_next": 8,
    "frame_instr": 56,
    "code_filename": 112,
    "code_name": 120,
    "code_linetable": 136,
    "unicode_length": 16,
    "unicode_state": 32,
    "bytes_size": 16,
    "bytes_data": 32,
}

#: Per minor version; each value is offsetof() on that version's headers (tests/running/test_python_stacks.py).
OFFSETS: dict[tuple[int, int], _Offsets] = {
    (3, 11): _Offsets(
        **_COMMON,
        runtime_interpreters_head=40,
        interp_threads_head=16,
        tstate_native_thread_id=160,
        tstate_frame=(56, 8),
        frame_code=32,
        frame_previous=48,
        frame_owner=69,
        code_firstlineno=72,
        code_adaptive=184,
        unicode_ascii_size=48,
        unicode_compact_size=72,
    ),
    (3, 12): _Offsets(
        **_COMMON,
        runtime_interpreters_head=40,
        interp_threads_head=72,
        tstate_native_thread_id=144,
        tstate_frame=(56, 0),
        frame_code=0,
        frame_previous=8,
        frame_owner=70,
        code_firstlineno=68,
        code_adaptive=192,
        unicode_ascii_size=40,
        unicode_compact_size=56,
    ),
    (3, 13): _Offsets(
        **{**_COMMON, "interp_next": 7264},
        runtime_interpreters_head=632,
        interp_threads_head=7344,
        tstate_native_thread_id=160,
        tstate_frame=(72,),
        frame_code=0,
        frame_previous=8,
        frame_owner=70,
        code_firstlineno=68,
        code_adaptive=200,
        unicode_ascii_size=40,
        unicode_compact_size=56,
    ),
}

_LIBPYTHON = re.compile(r"/libpython3\.\d+")


@dataclass(slots=True)
class _Code:
    """A code object as read once: what identifies it, its names, its line table and the lines looked up in it."""

    key: tuple[int, int, int, int]
    """Its filename, name and linetable pointers and its first line: another code object at the same
    address (the first one freed) differs in them, and is read afresh."""
    file: str
    name: str
    table: bytes
    lines: dict[int, int]
    """Instruction offset -> line, as looked up so far."""


class _Unreadable(Exception):
    """The tracee's memory did not hold what the structures say: no stack for this event."""


@dataclass(slots=True)
class _Image:
    """One process image running CPython: its memory, its addresses, and what was read of its code objects."""

    mem: int
    offsets: _Offsets
    runtime: int
    code_type: int
    unicode_type: int
    bytes_type: int
    codes: dict[int, _Code]
    """What was read of each code object, by address."""

    tstates: dict[int, int] = field(default_factory=dict)
    """Task id -> the address of its thread state, as found last: tried first, checked, else the list is walked."""
    pages: dict[int, bytes] = field(default_factory=dict)
    """The pages read during the current stop: the frames of a thread sit side by side in its data stack, and
    a stack's code objects often share pages, so most fields come from a page read once.  Emptied at each stop."""

    def read(self, address: int, size: int) -> bytes:
        first, last = address & _PAGE_MASK, (address + size - 1) & _PAGE_MASK
        if first != last:  # across pages (a long string, a line table): read it whole
            return self._pread(address, size)
        page = self.pages.get(first)
        if page is None:
            page = self.pages[first] = self._pread(first, _PAGE)
        offset = address - first
        return page[offset : offset + size]

    def _pread(self, address: int, size: int) -> bytes:
        try:
            data = os.pread(self.mem, size, address)
        except OSError:
            raise _Unreadable from None
        if len(data) != size:
            raise _Unreadable
        return data

    def pointer(self, address: int) -> int:
        return int.from_bytes(self.read(address, 8), "little")


class PythonStacks:
    """The CPython stacks of a run's tasks, read at their stops; ``note`` receives one line per thing it cannot read."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self._note = note
        self._images: dict[int, _Image | None] = {}
        self._noted: set[tuple[int, str]] = set()
        self._framed: dict[int, dict[int, bool]] = {}
        """Per CPython process, each task seen at an event, and whether any of its events had a frame."""
        self._not_yet: dict[int, tuple[int, int]] = {}
        """Per process found running no CPython (yet): (events to let pass before looking again, the last such gap)."""

    def _looked_lately(self, pid: int) -> bool:
        """Whether to skip looking for CPython in ``pid`` at this event, having found none a short while ago.

        A process maps libpython while the dynamic loader runs, before any
        code of the program; one that has not by then (a C server: xinetd,
        socat) never will, short of a dlopen.  Looking costs reading
        ``/proc/PID/maps``; at every event of a C server that busy was a
        third of its run (xinetd: 2.4 s traced, 6.6 s with frames).  So the
        looks thin out, each gap twice the last, up to :data:`_LONGEST_GAP`
        events: a process that maps CPython late is found within as many
        events as it had run without it.
        """
        waiting = self._not_yet.get(pid)
        if waiting is None or waiting[0] == 0:
            return False
        self._not_yet[pid] = (waiting[0] - 1, waiting[1])
        return True

    def read(self, pid: int, tid: int) -> Stack | None:
        """The Python stack of the stopped task ``tid`` of process ``pid``, innermost first; None when it has none."""
        if pid in self._images:
            image = self._images[pid]
        elif self._looked_lately(pid):
            return None
        else:
            image = self._open(pid)
        if image is None:
            return None
        image.pages.clear()  # the tracee ran since the last stop
        try:
            stack = self._stack(image, tid)
        except _Unreadable:
            stack = None
        tasks = self._framed.setdefault(pid, {})
        tasks[tid] = tasks.get(tid, False) or bool(stack)
        return stack

    def ended(self, pid: int, tid: int) -> None:
        """The task ended: its thread state is gone (its memory may hold it still, and a new task may reuse its id)."""
        if tid == pid:
            self.forget(pid)
            return
        image = self._images.get(pid)
        if image is not None:
            image.tstates.pop(tid, None)

    def forget(self, pid: int, *, exec: bool = False) -> None:
        """The process exec'd or ended: its image is read afresh next time.

        At its end, say which of its tasks never had a frame (threads started
        from C); not at an exec, where a fork child that ran only C code
        before it (``subprocess``) is no news.
        """
        for tid, framed in self._framed.pop(pid, {}).items():
            if not framed and not exec:
                self._note(
                    f"task {tid} of process {pid} ran no Python code at its recorded events: they have no frames"
                )
        self._not_yet.pop(pid, None)
        image = self._images.pop(pid, None)
        if image is not None:
            os.close(image.mem)

    def close(self) -> None:
        """Close every memory file."""
        for pid in {*self._images, *self._framed}:
            self.forget(pid)

    # -- finding the interpreter -------------------------------------------------

    def _open(self, pid: int) -> _Image | None:
        """The image of ``pid`` if it runs a supported CPython; None (not kept) while it runs no CPython yet."""
        found = _find_runtime(pid)
        if found is None:  # not CPython, or not yet: the dynamic loader maps libpython after the exec
            gap = min(2 * self._not_yet.get(pid, (0, 0))[1] or 1, _LONGEST_GAP)
            self._not_yet[pid] = (gap, gap)
            return None
        self._not_yet.pop(pid, None)
        path, bias, symbols = found
        try:
            mem = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            version = os.pread(mem, 8, bias + symbols["Py_Version"]) if "Py_Version" in symbols else b""
        except OSError:
            version = b""
        hexversion = int.from_bytes(version, "little") if len(version) == 8 else 0
        major, minor = hexversion >> 24, (hexversion >> 16) & 0xFF
        offsets = OFFSETS.get((major, minor))
        missing = {"PyCode_Type", "PyUnicode_Type", "PyBytes_Type"} - symbols.keys()
        refused = None
        if offsets is None or missing:
            said = f"CPython {major}.{minor}" if hexversion else "a CPython older than 3.11"
            refused = f"runs {said} ({path}): frames are read for 3.11 to 3.13 only"
        elif (major, minor) >= (3, 13):
            refused = debug_offsets_disagree(mem, bias + symbols["_PyRuntime"], hexversion, offsets)
        if refused is not None or offsets is None:
            os.close(mem)
            self._once(pid, "version", f"process {pid} {refused}")
            self._images[pid] = None
            return None
        image = _Image(
            mem,
            offsets,
            bias + symbols["_PyRuntime"],
            bias + symbols["PyCode_Type"],
            bias + symbols["PyUnicode_Type"],
            bias + symbols["PyBytes_Type"],
            {},
        )
        self._images[pid] = image
        return image

    def _once(self, pid: int, what: str, text: str) -> None:
        if (pid, what) not in self._noted:
            self._noted.add((pid, what))
            self._note(text)

    # -- walking the stack -------------------------------------------------------

    def _stack(self, image: _Image, tid: int) -> Stack | None:
        frame = self._current_frame(image, tid)
        if frame is None:
            return None
        o = image.offsets
        frames: list[Frame] = []
        seen: set[int] = set()
        while frame and len(seen) < _MAX_FRAMES:
            if frame in seen:
                raise _Unreadable
            seen.add(frame)
            raw = image.read(frame, o.frame_owner + 1)
            code = int.from_bytes(raw[o.frame_code : o.frame_code + 8], "little")
            previous = int.from_bytes(raw[o.frame_previous : o.frame_previous + 8], "little")
            instr = int.from_bytes(raw[o.frame_instr : o.frame_instr + 8], "little")
            if raw[o.frame_owner] != _FRAME_OWNED_BY_CSTACK:
                described = _frame(image, code, instr)
                if described is not None:
                    frames.append(described)
            frame = previous
        return tuple(frames)

    def _current_frame(self, image: _Image, tid: int) -> int | None:
        """The thread's current frame address, or None when no Python thread state of this task has one.

        More than one thread state may carry the task's id: a thread that
        starts another preallocates its thread state, with its own ids until
        the new thread takes it (3.11, ``init_threadstate``), and no frame.
        Only one with a frame is the task's; two would be ambiguous, and give
        no stack rather than a guess.
        """
        known = image.tstates.get(tid)
        if known is not None:
            frame = _frame_of(image, known, tid)
            if frame:
                return frame
        o = image.offsets
        found: list[tuple[int, int]] = []
        interp = image.pointer(image.runtime + o.runtime_interpreters_head)
        walked = 0
        while interp and walked < _MAX_THREADS:
            tstate = image.pointer(interp + o.interp_threads_head)
            while tstate and walked < _MAX_THREADS:
                walked += 1
                frame = _frame_of(image, tstate, tid)
                if frame:
                    found.append((tstate, frame))
                tstate = image.pointer(tstate + o.tstate_next)
            interp = image.pointer(interp + o.interp_next)
        if len(found) != 1:
            return None
        image.tstates[tid] = found[0][0]
        return found[0][1]


#: Where each checked field sits in 3.13's ``_Py_DebugOffsets`` (Include/internal/pycore_runtime.h), counted in
#: uint64 after its 8-byte cookie, and the table field it must equal.
DEBUG_OFFSETS_3_13 = {
    4: "runtime_interpreters_head",
    7: "interp_next",
    8: "interp_threads_head",
    20: "tstate_next",
    22: "tstate_frame",
    24: "tstate_native_thread_id",
    28: "frame_previous",
    29: "frame_code",
    30: "frame_instr",
    32: "frame_owner",
    34: "code_filename",
    35: "code_name",
    37: "code_linetable",
    38: "code_firstlineno",
    42: "code_adaptive",
}


def debug_offsets_disagree(mem: int, runtime: int, hexversion: int, offsets: _Offsets) -> str | None:
    """Why 3.13's own ``_Py_DebugOffsets`` (at the start of ``_PyRuntime``) forbid this table; None when they agree.

    The interpreter publishes them for tools like this one: a patch release, or a
    free-threaded build (whose structures differ), is caught here rather than read wrong.
    """
    try:
        raw = os.pread(mem, 8 + 8 * (max(DEBUG_OFFSETS_3_13) + 1), runtime)
    except OSError:
        return "could not be read (its _Py_DebugOffsets)"
    if len(raw) < 8 + 8 * (max(DEBUG_OFFSETS_3_13) + 1) or raw[:8] != b"xdebugpy":
        return "has no _Py_DebugOffsets where CPython 3.13 keeps them"
    values = [int.from_bytes(raw[8 + 8 * index : 16 + 8 * index], "little") for index in range(len(raw) // 8 - 1)]
    if values[0] != hexversion:
        return f"says {values[0]:#x} in its _Py_DebugOffsets, and {hexversion:#x} in Py_Version"
    if values[1]:
        return "is a free-threaded build of CPython 3.13, whose structures this reader does not know"
    for index, name in DEBUG_OFFSETS_3_13.items():
        expected = getattr(offsets, name)
        if values[index] != (expected[0] if isinstance(expected, tuple) else expected):
            return f"places {name} at {values[index]} (its _Py_DebugOffsets), not where this reader's table has it"
    return None


def _frame_of(image: _Image, tstate: int, tid: int) -> int:
    """The current frame of the thread state at ``tstate`` if it is the task ``tid``'s, else 0."""
    o = image.offsets
    if image.pointer(tstate + o.tstate_native_thread_id) != tid:
        return 0
    address = tstate
    for offset in o.tstate_frame:
        address = image.pointer(address + offset) if address else 0
    return address


def _frame(image: _Image, code: int, instr: int) -> Frame | None:
    """One frame, from its code object and instruction pointer; None for a frame that has not started yet."""
    o = image.offsets
    header = image.read(code, o.code_adaptive)
    if int.from_bytes(header[8:16], "little") != image.code_type:
        raise _Unreadable
    key = (
        int.from_bytes(header[o.code_filename : o.code_filename + 8], "little"),
        int.from_bytes(header[o.code_name : o.code_name + 8], "little"),
        int.from_bytes(header[o.code_linetable : o.code_linetable + 8], "little"),
        int.from_bytes(header[o.code_firstlineno : o.code_firstlineno + 4], "little", signed=True),
    )
    known = image.codes.get(code)
    if known is None or known.key != key:
        known = _Code(key, _string(image, key[0]), _string(image, key[1]), _bytes(image, key[2]), {})
        image.codes[code] = known
    lasti = (instr - (code + o.code_adaptive)) // 2
    if lasti < 0:  # pushed but not started (3.11: prev_instr is one before the first instruction)
        return None
    line = known.lines.get(lasti)
    if line is None:
        line = known.lines[lasti] = line_of(known.table, key[3], lasti * 2)
    return Frame(file=known.file, line=line, function=known.name)


def _string(image: _Image, address: int) -> str:
    """A compact ``str`` object's text (code objects' names and file names are always compact)."""
    o = image.offsets
    header = image.read(address, o.unicode_compact_size)
    if int.from_bytes(header[8:16], "little") != image.unicode_type:
        raise _Unreadable
    length = int.from_bytes(header[o.unicode_length : o.unicode_length + 8], "little")
    state = int.from_bytes(header[o.unicode_state : o.unicode_state + 4], "little")
    kind, compact, ascii_only = (state >> 2) & 7, (state >> 5) & 1, (state >> 6) & 1
    if not compact or kind not in (1, 2, 4) or length > 1 << 16:
        raise _Unreadable
    start = address + (o.unicode_ascii_size if ascii_only else o.unicode_compact_size)
    data = image.read(start, length * kind)
    return data.decode({1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}[kind])


def _bytes(image: _Image, address: int) -> bytes:
    o = image.offsets
    header = image.read(address, o.bytes_data)
    if int.from_bytes(header[8:16], "little") != image.bytes_type:
        raise _Unreadable
    size = int.from_bytes(header[o.bytes_size : o.bytes_size + 8], "little")
    if size > 1 << 24:
        raise _Unreadable
    return image.read(address + o.bytes_data, size)


def line_of(table: bytes, first_line: int, offset: int) -> int:
    """The line of the instruction at byte ``offset``, from a 3.11+ ``co_linetable`` (Objects/locations.md).

    Each entry starts with a byte ``1CCCCLLL``: code C, and L+1 code units
    covered.  Codes 0-9 (short form) and 10-12 (one-line form, the line
    moves by C-10) carry columns; 13 (no columns) and 14 (long form) start
    with a signed varint line delta; 15 means no line.  Returns 0 where the
    instruction has no line.
    """
    line, address, index = first_line, 0, 0
    while index < len(table):
        head = table[index]
        index += 1
        code, end = (head >> 3) & 15, address + ((head & 7) + 1) * 2
        has_line = True
        if code == 15:
            has_line = False
        elif code == 14:
            delta, index = _signed_varint(table, index)
            line += delta
            for _ in range(3):  # end line delta, column + 1, end column + 1
                _, index = _varint(table, index)
        elif code == 13:
            delta, index = _signed_varint(table, index)
            line += delta
        elif code >= 10:
            line += code - 10
            index += 2
        else:
            index += 1
        if address <= offset < end:
            return line if has_line else 0
        address = end
    return 0


def _varint(table: bytes, index: int) -> tuple[int, int]:
    byte = table[index]
    value, shift, index = byte & 63, 0, index + 1
    while byte & 64:
        byte = table[index]
        shift += 6
        value |= (byte & 63) << shift
        index += 1
    return value, index


def _signed_varint(table: bytes, index: int) -> tuple[int, int]:
    value, index = _varint(table, index)
    return (-(value >> 1) if value & 1 else value >> 1), index


def _find_runtime(pid: int) -> tuple[str, int, dict[str, int]] | None:
    """The mapped file of ``pid`` that defines ``_PyRuntime``, its load bias and its symbols; None when none does."""
    try:
        with open(f"/proc/{pid}/maps") as stream:
            maps = stream.read().splitlines()
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    starts: dict[str, int] = {}
    for line in maps:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and int(fields[2], 16) == 0 and fields[5] not in starts:
            starts[fields[5]] = int(fields[0].split("-")[0], 16)
    for path in sorted(starts, key=lambda path: (path != exe, _LIBPYTHON.search(path) is None)):
        if path != exe and _LIBPYTHON.search(path) is None:
            break
        elf = _symbols(path)
        if elf is not None and "_PyRuntime" in elf.symbols:
            bias = starts[path] - elf.first_load_vaddr if elf.type == ET_DYN else 0
            return path, bias, elf.symbols
    return None


#: The most events of a process that pass between two looks for CPython in it, once none was found.
_LONGEST_GAP = 256

_SYMBOLS: dict[tuple[str, int, int], ElfSymbols | None] = {}


def _symbols(path: str) -> ElfSymbols | None:
    """An ELF file's wanted symbols, read once per file version."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_ino, stat.st_mtime_ns)
    if key not in _SYMBOLS:
        _SYMBOLS[key] = read_symbols(path, _WANTED)
    return _SYMBOLS[key]
