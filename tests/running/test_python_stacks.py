"""The parts of the Python stack reader that need no tracee: the line table, the offsets, the ELF symbols."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from support.pythons import interpreter

from harness.running.tracer.elf_symbols import read_symbols
from harness.running.tracer.python_stacks import DEBUG_OFFSETS_3_13, OFFSETS, debug_offsets_disagree, line_of


def _codes(code: types.CodeType) -> list[types.CodeType]:
    nested = [const for const in code.co_consts if isinstance(const, types.CodeType)]
    return [code, *(inner for const in nested for inner in _codes(const))]


@pytest.mark.parametrize("module", ["socket", "threading", "asyncio.base_events", "json.decoder"])
def test_the_line_table_gives_the_line_cpython_gives(module: str) -> None:
    """Every instruction of every function of a real module: the same line as code.co_lines()."""
    source = Path(__import__(module, fromlist=["_"]).__file__ or "")
    compiled = compile(source.read_text(), str(source), "exec")
    checked = 0
    for code in _codes(compiled):
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                assert line_of(code.co_linetable, code.co_firstlineno, offset) == (line or 0), (code, offset)
                checked += 1
    assert checked > 1000


_OFFSETS_PROGRAM = r"""
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#define P(name, expr) printf("%s=%zu\n", name, (size_t)(expr))
int main(void) {
  P("runtime_interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
  P("interp_next", offsetof(PyInterpreterState, next));
  P("interp_threads_head", offsetof(PyInterpreterState, threads.head));
  P("tstate_next", offsetof(PyThreadState, next));
  P("tstate_native_thread_id", offsetof(PyThreadState, native_thread_id));
#if PY_VERSION_HEX < 0x030D0000
  P("tstate_frame", offsetof(PyThreadState, cframe));
  P("tstate_frame", offsetof(_PyCFrame, current_frame));
  P("frame_code", offsetof(_PyInterpreterFrame, f_code));
  P("frame_instr", offsetof(_PyInterpreterFrame, prev_instr));
#else
  P("tstate_frame", offsetof(PyThreadState, current_frame));
  P("frame_code", offsetof(_PyInterpreterFrame, f_executable));
  P("frame_instr", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
  P("frame_previous", offsetof(_PyInterpreterFrame, previous));
  P("frame_owner", offsetof(_PyInterpreterFrame, owner));
  P("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));
  P("code_filename", offsetof(PyCodeObject, co_filename));
  P("code_name", offsetof(PyCodeObject, co_name));
  P("code_linetable", offsetof(PyCodeObject, co_linetable));
  P("code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
  P("unicode_length", offsetof(PyASCIIObject, length));
  P("unicode_state", offsetof(PyASCIIObject, state));
  P("unicode_ascii_size", sizeof(PyASCIIObject));
  P("unicode_compact_size", sizeof(PyCompactUnicodeObject));
  P("bytes_size", offsetof(PyVarObject, ob_size));
  P("bytes_data", offsetof(PyBytesObject, ob_sval));
  return 0;
}
"""


@pytest.mark.parametrize("label", ["3.11-libpython", "3.12", "3.13"])
def test_the_offsets_are_the_interpreters_own(label: str, tmp_path: Path) -> None:
    """Each table row is what offsetof() says on that version's own internal headers (where they are installed)."""
    python = interpreter(label)
    compiler = shutil.which("cc") or shutil.which("gcc")
    if python is None or compiler is None:
        pytest.skip(f"needs CPython {label} and a C compiler")
    include = subprocess.run(
        [python, "-I", "-S", "-c", "import sysconfig, sys; print(sysconfig.get_paths()['include'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not (Path(include) / "internal" / "pycore_frame.h").exists():
        pytest.skip(f"CPython {label} has no internal headers installed in {include}")
    source = tmp_path / "offsets.c"
    source.write_text(_OFFSETS_PROGRAM)
    binary = tmp_path / "offsets"
    subprocess.run([compiler, f"-I{include}", f"-I{include}/internal", "-o", str(binary), str(source)], check=True)
    measured: dict[str, list[int]] = {}
    for line in subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split():
        name, value = line.split("=")
        measured.setdefault(name, []).append(int(value))
    version = tuple(int(part) for part in label.split("-")[0].split("."))
    table = OFFSETS[(version[0], version[1])]
    for name, values in measured.items():
        expected = list(getattr(table, name)) if name == "tstate_frame" else [getattr(table, name)]
        assert values == expected, name


def test_the_symbols_come_from_the_file_that_defines_them() -> None:
    """The running interpreter defines _PyRuntime in its executable or in its libpython."""
    wanted = frozenset({"_PyRuntime", "Py_Version", "PyCode_Type"})
    maps = Path("/proc/self/maps").read_text().split("\n")
    files = {line.split()[-1] for line in maps if line.count(" ") >= 5 and line.split()[-1].startswith("/")}
    defining = [found for path in sorted(files) if (found := read_symbols(path, wanted)) and found.symbols]
    assert any(found.symbols.keys() == wanted for found in defining)
    assert read_symbols(sys.executable, frozenset({"no_such_symbol_here"})) is not None
    assert read_symbols(str(Path(__file__)), wanted) is None  # not an ELF file


def _debug_offsets(**changes: int) -> bytes:
    """3.13.0's _Py_DebugOffsets as the interpreter writes them (the checked fields), with ``changes`` by index."""
    values = [0] * 43
    values[0] = 0x30D00F0
    for index, name in DEBUG_OFFSETS_3_13.items():
        value = getattr(OFFSETS[(3, 13)], name)
        values[index] = value[0] if isinstance(value, tuple) else value
    for where, value in changes.items():
        values[int(where.removeprefix("at"))] = value
    return b"xdebugpy" + b"".join(value.to_bytes(8, "little") for value in values)


@pytest.mark.parametrize(
    ("memory", "said"),
    [
        (_debug_offsets(), None),
        (_debug_offsets(at24=168), "places tstate_native_thread_id at 168 (its _Py_DebugOffsets)"),
        (_debug_offsets(at1=1), "is a free-threaded build of CPython 3.13"),
        (_debug_offsets(at0=0x30D01F0), "says 0x30d01f0 in its _Py_DebugOffsets, and 0x30d00f0 in Py_Version"),
        (b"xdebugpz" + _debug_offsets()[8:], "has no _Py_DebugOffsets where CPython 3.13 keeps them"),
    ],
)
def test_cpython_3_13s_own_debug_offsets_must_agree_with_the_table(
    memory: bytes, said: str | None, tmp_path: Path
) -> None:
    """The reader refuses a 3.13 whose published offsets differ (a patch release, a free-threaded build)."""
    image = tmp_path / "memory"
    image.write_bytes(b"\0" * 64 + memory)
    fd = os.open(image, os.O_RDONLY)
    try:
        found = debug_offsets_disagree(fd, 64, 0x30D00F0, OFFSETS[(3, 13)])
    finally:
        os.close(fd)
    assert found == said if said is None else found is not None and found.startswith(said)
