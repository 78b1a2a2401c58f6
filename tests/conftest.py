"""Shared fixtures, and the markers that say which tests need ptrace or strace.

Plain helpers (paths, the test programs, :func:`support.capability.missing`)
live in the ``support`` package; only fixtures and hooks are here.  A missing
capability (no ptrace permission, no C compiler, no strace) is a skip with
its reason, except where ``HARNESS_REQUIRE_PTRACE=1`` is set (CI sets it),
where it is a failure: CI must prove the real ptrace tests ran.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support.capability import missing
from support.processes import adopting_orphans
from support.programs import PROGRAMS, python_program
from support.runs import Run

from harness.analysis.explain import STRICT_ENV
from harness.model.errors import PtraceNotPermitted
from harness.model.expectations import EXPECTATION_SUFFIX as SUFFIX
from harness.running.tracer import Tracer

pytest_plugins = ["pytester", "support.ptrace_free_once"]
# Every explanation the suite makes, in this process or in a harness it starts, has each claim checked against its
# trace, and a claim the trace does not support fails the test (users get it withheld and named instead).
os.environ[STRICT_ENV] = "1"
#: Expectation files that must fail to load: test data for test_loader, not tests to collect.
collect_ignore = ["model/bad_expectations"]
ROOT = Path(__file__).resolve().parent.parent

# Property tests: the same examples on every run, and no timing limits, so
# that the suite's verdict depends on the code only, not on the machine's
# load or on what an earlier run found (no example database).  To fuzz for
# new failures by hand: ``pytest --hypothesis-profile=explore tests/model``.
settings.register_profile(
    "suite",
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

#: A test that uses one of these fixtures (directly or through another) runs processes under ptrace.
#: ``c_program`` counts: the test programs are built only to be traced.  ``harness_run`` is the plugin's.
PTRACE_FIXTURES = frozenset({"ptrace_permitted", "c_program", "harness_run"})
#: A test that uses one of these fixtures runs strace.
STRACE_FIXTURES = frozenset({"strace"})


def pytest_configure(config: pytest.Config) -> None:
    """Compile, once, what the suite's hundreds of interpreters import and finds no ``.pyc`` for.

    ``python -m harness``, pytester's runs and the ptrace-free proof each
    import the harness, and every pytest among them imports hypothesis's
    plugin.  Where PYTHONDONTWRITEBYTECODE is set (as on the CI machine) and
    a package was installed without its ``.pyc`` files (hypothesis, here),
    none of them writes one, so each compiled every such module again: 0.1 to
    0.2 s of CPU per harness start, about 1 s per pytest start.  So the
    controller compiles the harness, and every module it has itself imported
    that lacks a ``.pyc``, before any test runs: nothing is written while a
    test runs, and the traced servers' start-ups stay the same from run to
    run.  (PYTHONPYCACHEPREFIX, tried first, also hides the standard
    library's ``.pyc`` files, which then compile at every start.)
    """
    # Each pytest process of the suite also writes the test modules as pytest rewrites them (with
    # their asserts) to the checkout's __pycache__, for the next to read: the flag is this
    # process's only, so the environment, and every server the suite traces, keeps
    # PYTHONDONTWRITEBYTECODE.
    sys.dont_write_bytecode = False
    if hasattr(config, "workerinput"):  # once, in the controller (or the only process)
        return
    compileall.compile_dir(ROOT / "harness", quiet=1)
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if source and source.endswith(".py") and not Path(importlib.util.cache_from_source(source)).exists():
            py_compile.compile(source, quiet=2)  # quiet: a read-only site-packages only costs the time
    _cache_rewritten_plugins()


def _cache_rewritten_plugins() -> None:
    """Have pytest write, once, the ``.pyc`` files of the plugin packages as its assertion rewriting makes them.

    pytest rewrites the asserts of every module of a package that registers
    a plugin (hypothesis, all of it), at every import, to ``.pyc`` files of
    their own (``__init__.cpython-311-pytest-9.0.3.pyc``).  With
    PYTHONDONTWRITEBYTECODE nothing writes them, and every pytest the suite
    starts (xdist's workers, pytester's runs, the ptrace-free proof) rewrote
    hypothesis again: 0.65 s of CPU each, half of a pytest start.  One
    collection of the suite without that variable writes them all, then each
    pytest reads them.  Where the variable is not set, each run caches its own.
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    import hypothesis  # the probe: its package is the one rewritten at every pytest start

    tag = f"{sys.implementation.cache_tag}-pytest-{pytest.__version__}"
    if (Path(hypothesis.__file__).parent / "__pycache__" / f"__init__.{tag}.pyc").exists():
        return
    environ = {
        name: value
        for name, value in os.environ.items()
        if name != "PYTHONDONTWRITEBYTECODE" and not name.startswith("PYTEST_")
    }
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # only a cache: a failure here costs time, the suite's own run reports any error
    )


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by -m
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``ptrace`` every test that needs it, and ``strace`` every test that runs strace.

    The marks follow from the fixtures a test uses, and from the expectation
    files (each of their items runs a server under the tracer), so that
    ``-m "not ptrace"`` selects exactly the tests that run where ptrace is
    forbidden; ``tests/test_markers.py`` proves it.
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & PTRACE_FIXTURES or item.path.name.endswith(SUFFIX):
            item.add_marker(pytest.mark.ptrace)
        if fixtures & STRACE_FIXTURES:
            item.add_marker(pytest.mark.strace)


@pytest.fixture(scope="session")
def ptrace_permitted() -> None:
    """Trace a trivial command once; skip ptrace tests where the kernel forbids tracing."""
    try:
        Tracer(["true"], syscalls=["exit_group"]).run()
    except PtraceNotPermitted as error:
        missing(str(error))


@pytest.fixture
def adopting() -> Iterator[None]:
    """This process as the child subreaper during the test: the run's orphans are re-parented to it."""
    with adopting_orphans():
        yield


@pytest.fixture(scope="session")
def strace() -> Path:
    """The strace binary; skip (or fail in CI) where it is not installed."""
    found = shutil.which("strace")
    if found is None:
        missing("strace is not installed (apt-get install strace)")
    return Path(found)


@pytest.fixture(scope="session")
def c_program(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Compile tests/integration/programs/NAME.c once per session (per xdist worker); returns the binary's path."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    built: dict[str, Path] = {}
    out = tmp_path_factory.mktemp("programs")  # per worker: workers never build into each other's files

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


@pytest.fixture
def program_argv(c_program: Callable[[str], Path]) -> Callable[[tuple[str, ...]], list[str]]:
    """The command line of a TEST_PROGRAMS entry: a compiled C program, or a Python one."""

    def argv(program: tuple[str, ...]) -> list[str]:
        name, *args = program
        command = python_program(name) if name.endswith(".py") else [str(c_program(name))]
        return command + args

    return argv
