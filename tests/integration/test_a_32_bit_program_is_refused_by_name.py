"""A 32-bit (i386) program is refused by name, its tree killed, and no trace is invented for it.

Its syscall numbers are not x86_64's (its ``read`` is x86_64's ``close``), so
the tracer reads each call's architecture (PTRACE_GET_SYSCALL_INFO, or the
code segment without it) and refuses the program at its first call.  The
program is built with ``cc -m32`` (``gcc-multilib`` on Debian); where no
compiler can build it, the test skips with the reason (CI installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.capability import missing
from support.processes import processes_holding
from support.programs import PROGRAMS

from harness.model.events import SyscallEvent
from harness.model.trace import Trace

#: Each test here runs a program under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")


@pytest.fixture(scope="module")
def i386_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        missing("no C compiler (cc) on this machine")
    binary = tmp_path_factory.mktemp("i386") / "i386_calls"
    build = subprocess.run(
        [compiler, "-m32", "-o", str(binary), str(PROGRAMS / "i386_calls.c")], capture_output=True, text=True
    )
    if build.returncode != 0:
        last = (build.stderr.strip().splitlines() or ["no output"])[-1]
        missing(f"cc -m32 cannot build a 32-bit program here ({last}): apt-get install gcc-multilib")
    return binary


@pytest.mark.parametrize(
    "options", [[], ["--no-syscall-info"], ["--seccomp"]], ids=["syscall-info", "registers", "seccomp"]
)
def test_a_32_bit_program_is_refused_in_one_line_naming_it(i386_program: Path, options: list[str]) -> None:
    traced = subprocess.run(
        [sys.executable, "-m", "harness", "trace", *options, "--", str(i386_program)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = traced.stderr.splitlines()
    assert traced.returncode == 126, traced.stderr
    assert lines[-1] == (
        f"harness: {i386_program}: a 32-bit (i386) program: the harness traces x86_64 programs only "
        "(the syscall numbers of other ABIs differ, so its trace would be wrong); build it for x86_64"
    )
    # The only event before the refusal is the exec (an x86_64 call): no call of the program is named.
    assert len(lines) == 2 and "+++ exec" in lines[0], traced.stderr
    assert "Traceback" not in traced.stderr


def test_a_32_bit_program_started_by_a_traced_one_ends_the_run_with_nothing_left(
    i386_program: Path, tmp_path: Path
) -> None:
    """The refused program is a child of an x86_64 one, which would wait 600 s: the whole tree is killed."""
    marker = str(tmp_path / "parent")
    parent = "import subprocess, sys, time; subprocess.run([sys.argv[1]]); time.sleep(600)"
    argv = [sys.executable, "-c", parent, str(i386_program), marker]
    traced = subprocess.run(
        [sys.executable, "-m", "harness", "trace", "--", *argv], capture_output=True, text=True, timeout=120
    )
    assert traced.returncode == 126, traced.stderr
    assert traced.stderr.splitlines()[-1].startswith(f"harness: {i386_program}: a 32-bit (i386) program")
    assert processes_holding(marker, "cmdline") == []


@pytest.mark.parametrize(
    "options", [[], ["--no-syscall-info"], ["--seccomp"]], ids=["syscall-info", "registers", "seccomp"]
)
def test_a_64_bit_program_with_a_stray_foreign_call_is_traced_not_refused(
    c_program: Callable[[str], Path], options: list[str]
) -> None:
    """One int $0x80 or one x32 call in a 64-bit program (strace traces it): said once, the rest traced."""
    traced = subprocess.run(
        [sys.executable, "-m", "harness", "trace", *options, "--", str(c_program("stray_foreign_calls"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert traced.returncode == 0, traced.stderr
    lines = traced.stderr.splitlines()
    notes = [line for line in lines if line.startswith("harness: main (pid ")]
    assert len(notes) == 1 and "made an i386 call, getpid, from a 64-bit program (int $0x80)" in notes[0], lines
    assert any(line.endswith("close(3) = 0") for line in lines) and lines[-1].endswith("+++ exited with 0 +++")


@pytest.mark.parametrize(
    "options", [[], ["--no-syscall-info"], ["--seccomp"]], ids=["syscall-info", "registers", "seccomp"]
)
def test_a_stray_foreign_call_that_is_traced_is_recorded_by_its_own_abis_name_as_strace_shows_it(
    c_program: Callable[[str], Path], options: list[str], tmp_path: Path
) -> None:
    jsonl = tmp_path / "run.jsonl"
    program = str(c_program("stray_foreign_calls"))
    outputs = ["--syscalls", "+getpid", "--jsonl", str(jsonl)]
    traced = subprocess.run(
        [sys.executable, "-m", "harness", "trace", *options, *outputs, "--", program],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert traced.returncode == 0, traced.stderr
    lines = [line for line in traced.stderr.splitlines() if not line.startswith("harness:")]
    pid = Trace.read_jsonl(jsonl)[0].pid
    shown = lines[lines.index(f"[ Process PID={pid} runs in 32 bit mode. ]") :][:6]
    assert shown == [
        f"[ Process PID={pid} runs in 32 bit mode. ]",
        f"[pid {pid} main] getpid() = {pid}",  # i386's 20, not x86_64's 20 (writev)
        f"[ Process PID={pid} runs in x32 mode. ]",
        f"[pid {pid} main] getpid() = -1 ENOSYS (Function not implemented)",
        f"[ Process PID={pid} runs in 64 bit mode. ]",
        f"[pid {pid} main] close(3) = 0",
    ]
    calls = [e for e in Trace.read_jsonl(jsonl) if isinstance(e, SyscallEvent) and e.name == "getpid"]
    assert [(e.abi, e.args) for e in calls] == [("i386", {}), ("x32", {})]
