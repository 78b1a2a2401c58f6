"""Run the whole test suite N times under load; report each run's failures and wall time.

A test that orders its processes by handshakes and ptrace stops passes
whatever the load; one that hopes for an order fails now and then, most
often when the machine is busy.  So while the measured runs follow each
other, a second copy of the suite runs in a loop beside them as load (the
same mix of compiling, tracing and forking, not an artificial spinner).

    python bench/suite_stability.py --runs 20
    python bench/suite_stability.py --runs 5 --no-load -- -n 2 tests/integration

The arguments after ``--`` replace the default pytest arguments, the test
command of the README and ``.ci/run`` (``-n 4``).  Each run gets its own
``--basetemp``, so the measured runs and the load never share a temporary
directory.  Prints one line per run (wall time, failures, the failed tests),
then a summary; exits 1 if any measured run failed, 0 otherwise.  The load's
own results do not decide the exit status (it is there to make the machine
busy), but its failed runs and tests are printed too, for what they are worth,
and every failed run's directory (its output, JUnit report, the traces of its
failing expectation files, its temporary files) is kept (``--keep DIR``) to
find out why.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The README's test command's arguments (after ``python -m pytest``).
DEFAULT_ARGS = ("-n", "4")


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteRun:
    """One measured run of the suite."""

    number: int
    #: pytest's exit status (0: all passed).
    status: int
    #: Seconds from start to exit.
    wall: float
    #: Node ids of the tests that failed or errored.
    failed: tuple[str, ...]

    def __str__(self) -> str:
        verdict = "ok" if self.status == 0 else f"FAILED (exit {self.status}, {len(self.failed)} tests)"
        lines = [f"run {self.number:3d}: {self.wall:6.1f} s  {verdict}"]
        lines += [f"           {node}" for node in self.failed]
        return "\n".join(lines)


def _failed_tests(junit: Path) -> tuple[str, ...]:
    """The failed or errored test cases of a JUnit XML report, as ``classname::name``."""
    try:
        tree = ElementTree.parse(junit)
    except (OSError, ElementTree.ParseError):
        return ("(no JUnit report: pytest did not finish)",)
    return tuple(
        f"{case.get('classname')}::{case.get('name')}"
        for case in tree.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )


def _pytest_command(workdir: Path) -> list[str]:
    """A run's pytest command: its temporary files, its JUnit report and its failing traces all in ``workdir``."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={workdir / 'tmp'}",
        f"--junitxml={workdir / 'junit.xml'}",
        f"--harness-traces={workdir / 'traces'}",  # an expectation file's failing run: its trace, kept here
    ]


def _special_files(directory: str, names: list[str]) -> set[str]:
    """The names copytree cannot copy: the FIFOs, sockets and devices tests leave (a planted FIFO, a ready pipe)."""
    special = set()
    for name in names:
        with contextlib.suppress(OSError):
            mode = os.lstat(os.path.join(directory, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                special.add(name)
    return special


def keep(workdir: Path, kept: Path) -> Path:
    """Copy a failed run's directory (output, JUnit report, traces, temporary files) where it outlives the bench."""
    kept.mkdir(parents=True, exist_ok=True)
    target = kept / workdir.name
    shutil.copytree(
        workdir, target, symlinks=True, ignore=_special_files, ignore_dangling_symlinks=True, dirs_exist_ok=True
    )
    return target


def run_suite(number: int, pytest_args: list[str], scratch: Path) -> SuiteRun:
    """Run the suite once, from the repository's root, into a temporary directory of its own."""
    workdir = scratch / f"run-{number}"
    (workdir / "traces").mkdir(parents=True)
    junit = workdir / "junit.xml"
    command = [*_pytest_command(workdir), *pytest_args]
    started = time.perf_counter()
    with open(workdir / "output.txt", "w") as output:
        status = subprocess.run(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, check=False).returncode
    return SuiteRun(number=number, status=status, wall=time.perf_counter() - started, failed=_failed_tests(junit))


class Load:
    """The suite in a loop, in a process group of its own, until stopped."""

    def __init__(self, pytest_args: list[str], scratch: Path, kept: Path) -> None:
        self._args = pytest_args
        self._scratch = scratch
        self._kept = kept
        self._stopping = threading.Event()
        self._current: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.runs = 0
        #: The failed tests of each complete load run that failed.
        self.failed: list[tuple[str, ...]] = []
        self._thread = threading.Thread(target=self._loop, name="load", daemon=True)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            workdir = self._scratch / f"load-{self.runs}"
            (workdir / "traces").mkdir(parents=True, exist_ok=True)
            with self._lock:
                if self._stopping.is_set():
                    return
                with open(workdir / "output.txt", "w") as output:
                    self._current = subprocess.Popen(
                        [*_pytest_command(workdir), *self._args],
                        cwd=ROOT,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own group: __exit__ ends the run and all it started
                    )
            status = self._current.wait()
            if not self._stopping.is_set():
                self.runs += 1
                if status != 0:
                    self.failed.append(_failed_tests(workdir / "junit.xml"))
                    keep(workdir, self._kept)
                shutil.rmtree(workdir, ignore_errors=True)  # the next run starts clean, at the same name

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._stopping.set()
            current = self._current
        if current is not None and current.poll() is None:
            os.killpg(current.pid, signal.SIGTERM)  # pytest's workers and traced runs are in its group
            try:
                current.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(current.pid, signal.SIGKILL)
                current.wait()
        self._thread.join()


def main() -> int:
    """Run the suite --runs times (with the load unless --no-load); print the runs and a summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="measured runs of the suite (default 20)")
    parser.add_argument("--no-load", action="store_true", help="run without the second copy of the suite")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="where the failed runs' output, JUnit reports and traces are kept "
        "(default: a suite-stability-failures-PID directory in the system's temporary directory)",
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- PYTEST ARGS (default: -n 4)")
    args = parser.parse_args()
    pytest_args = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    pytest_args = pytest_args or list(DEFAULT_ARGS)

    runs: list[SuiteRun] = []
    kept = Path(args.keep) if args.keep else Path(tempfile.gettempdir()) / f"suite-stability-failures-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="suite-stability-") as scratch_name:
        scratch = Path(scratch_name)
        load = None if args.no_load else Load(pytest_args, scratch, kept)
        with load if load is not None else contextlib.nullcontext():
            for number in range(1, args.runs + 1):
                run = run_suite(number, pytest_args, scratch)
                runs.append(run)
                print(run, flush=True)
                if run.status != 0:
                    print(f"           kept in {keep(scratch / f'run-{number}', kept)}", flush=True)

    failed = [run for run in runs if run.status != 0]
    walls = sorted(run.wall for run in runs)
    print(
        f"\n{len(failed)} of {len(runs)} runs failed; wall time min {walls[0]:.1f} s, "
        f"median {walls[len(walls) // 2]:.1f} s, max {walls[-1]:.1f} s "
        f"({'with' if load is not None else 'without'} load; pytest {' '.join(pytest_args)})"
    )
    flaky: dict[str, int] = {}
    for run in failed:
        for node in run.failed:
            flaky[node] = flaky.get(node, 0) + 1
    for node, count in sorted(flaky.items(), key=lambda item: -item[1]):
        print(f"  {count:3d}x {node}")
    if load is not None:
        print(f"load: {load.runs} complete runs of the suite beside them, {len(load.failed)} failed")
        for node in sorted({node for failed_tests in load.failed for node in failed_tests}):
            print(f"  {sum(node in failed_tests for failed_tests in load.failed):3d}x {node}")
    if kept.is_dir():
        print(f"the failed runs' output, JUnit reports and traces are kept in {kept}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
