"""Shared fixtures: compiled test programs and traced runs of them.

A missing capability (no ptrace permission, no C compiler, no strace) is a
skip with its reason, except where ``HARNESS_REQUIRE_PTRACE=1`` is set (CI
sets it), where it is a failure: CI must prove the real ptrace tests ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from harness.model.errors import PtraceNotPermitted
from harness.running.tracer import Tracer, TraceResult

pytest_plugins = ["pytester"]
#: Expectation files that must fail to load: test data for test_loader, not tests to collect.
collect_ignore = ["faces/bad_expectations"]

PROGRAMS = Path(__file__).parent / "integration" / "programs"
SERVERS = Path(__file__).parent.parent / "servers"
EXPECTATIONS = Path(__file__).parent.parent / "expectations"
REQUIRED = os.environ.get("HARNESS_REQUIRE_PTRACE") == "1"


def missing(reason: str) -> NoReturn:
    """Skip for a missing capability, or fail where CI requires it."""
    if REQUIRED:
        pytest.fail(f"{reason} (HARNESS_REQUIRE_PTRACE=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ptrace_permitted() -> None:
    """Trace a trivial command once; skip ptrace tests where the kernel forbids tracing."""
    try:
        Tracer(["true"], syscalls=["exit_group"]).run()
    except PtraceNotPermitted as error:
        missing(str(error))


@pytest.fixture(scope="session")
def c_program(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Compile tests/integration/programs/NAME.c once per session; returns the binary's path."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    built: dict[str, Path] = {}
    out = tmp_path_factory.mktemp("programs")

    def build(name: str) -> Path:
        if compiler is None:
            missing("no C compiler (cc) on this machine")
        if name not in built:
            binary = out / name
            subprocess.run(
                [compiler, "-Wall", "-Werror", "-O1", "-pthread", "-o", str(binary), str(PROGRAMS / f"{name}.c")],
                check=True,
            )
            built[name] = binary
        return built[name]

    return build


class Run:
    """A finished traced run, with what the command printed."""

    def __init__(self, result: TraceResult, stdout: str, stderr: str) -> None:
        self.result = result
        self.trace = result.trace
        self.stdout = stdout
        self.stderr = stderr


@pytest.fixture
def traced(ptrace_permitted: None) -> Callable[..., Run]:
    """Run a command under the tracer, capturing its output."""

    def run(argv: Sequence[str | Path], *, use_syscall_info: bool | None = None, seccomp: bool = False) -> Run:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            tracer = Tracer(
                [str(arg) for arg in argv],
                stdio=(None, out.fileno(), err.fileno()),
                use_syscall_info=use_syscall_info,
                seccomp=seccomp,
            )
            result = tracer.run()
            out.seek(0)
            err.seek(0)
            return Run(result, out.read().decode(), err.read().decode())

    return run


PYTHON = sys.executable

#: The small programs of tests/integration/programs, with their arguments: each tells one story.
TEST_PROGRAMS: list[tuple[str, ...]] = [
    ("sigchld_accept", "norestart"),
    ("sigchld_accept", "restart"),
    ("sigchld_accept", "ign"),
    ("killed_child",),
    ("double_fork",),
    ("thread_fork",),
    ("pep475_accept.py",),
]


@pytest.fixture
def program_argv(c_program: Callable[[str], Path]) -> Callable[[tuple[str, ...]], list[str]]:
    """The command line of a TEST_PROGRAMS entry: a compiled C program, or a Python one."""

    def argv(program: tuple[str, ...]) -> list[str]:
        name, *args = program
        command = [PYTHON, str(PROGRAMS / name)] if name.endswith(".py") else [str(c_program(name))]
        return command + args

    return argv
