"""The ``ptrace`` marker is exact: ``pytest -m "not ptrace"`` passes where ptrace is impossible.

The marks come from ``pytest_collection_modifyitems`` in ``tests/conftest.py``
(from the fixtures a test uses).  A test that traces without saying so would
be selected by ``-m "not ptrace"`` and then fail or skip on a machine that
forbids ptrace (a container without ``CAP_SYS_PTRACE``).  So this test runs
that subset in a child process whose seccomp filter makes every ``ptrace``
call fail with EPERM, as a container's default seccomp profile does, and with
``HARNESS_REQUIRE_PTRACE=1``, which turns a skip for want of ptrace into a
failure: the subset must pass with nothing skipped.  Where all its shards
run, this is the only run of those tests (``support/ptrace_free_once.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from support.capability import missing
from support.programs import PYTHON
from support.ptrace_free_once import SHARD_COUNTS, SHARDS, ptrace_can_be_forbidden

ROOT = Path(__file__).resolve().parent.parent
#: Exit status of the child when ptrace still works under its filter (the run would prove nothing).
PTRACE_STILL_WORKS = 3

#: Forbid ptrace (EPERM) in this process and all it starts, check that the tracer
#: reports it, then run pytest with the arguments given.
_WITHOUT_PTRACE = f"""
import errno, os, subprocess, sys
import pyseccomp
syscall_filter = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
syscall_filter.add_rule(pyseccomp.ERRNO(errno.EPERM), "ptrace")
syscall_filter.load()  # inherited by every process started from here on

check = (
    "from harness.model.errors import PtraceNotPermitted\\n"
    "from harness.running.tracer import Tracer\\n"
    "try:\\n    Tracer(['true'], syscalls=['exit_group']).run()\\n"
    "except PtraceNotPermitted:\\n    raise SystemExit(0)\\n"
    "raise SystemExit(1)\\n"
)
if subprocess.run([sys.executable, "-c", check]).returncode != 0:
    sys.exit({PTRACE_STILL_WORKS})
# pytest in a fresh interpreter (exec keeps the filter): nothing of the harness imported before it,
# so that pytest can rewrite the plugin's asserts as usual.
os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])
"""


def _without_xdist(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment without an xdist worker's variables: the inner run is a session of its own."""
    return {name: value for name, value in environ.items() if not name.startswith("PYTEST_XDIST_")}


@pytest.mark.parametrize("shard", list(SHARDS))
def test_the_tests_not_marked_ptrace_pass_where_ptrace_is_forbidden(
    shard: str, record_property: Callable[[str, object], None]
) -> None:
    if not ptrace_can_be_forbidden():
        missing("pyseccomp cannot load libseccomp.so.2 here (apt-get install libseccomp2)")
    this_file = str(Path(__file__).relative_to(ROOT))  # its tests run pytest themselves, so not again in there
    done = subprocess.run(
        [
            *[PYTHON, "-c", _WITHOUT_PTRACE, "-m", "not ptrace", "-p", "no:cacheprovider", "-q"],
            *["--deselect", this_file],
            *SHARDS[shard],
        ],
        cwd=ROOT,
        env={**_without_xdist(os.environ), "HARNESS_REQUIRE_PTRACE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode != PTRACE_STILL_WORKS, "ptrace still works under the seccomp filter"
    summary = done.stdout.rstrip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    counts = re.fullmatch(r"=* ?(\d+ passed)(?:, \d+ deselected)?((?:, \d+ xfailed)?) in .*", summary)
    assert counts, summary
    record_property(SHARD_COUNTS, f"{shard!r}: {counts[1]}{counts[2]}")


def _selected(marker: str, *paths: str) -> set[str]:
    """The node ids that ``-m MARKER`` selects among PATHS, parameters left out."""
    done = subprocess.run(
        [PYTHON, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", marker, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.partition("[")[0] for line in done.stdout.splitlines() if "::" in line}


def test_the_marks_follow_from_the_fixtures_and_from_the_expectation_files() -> None:
    differential = "tests/integration/test_differential_strace.py"
    lifecycle = "tests/integration/test_process_lifecycle.py"
    expectation = "expectations/fork_sigchld.expect.yaml"
    unit = "tests/model/test_trace.py"

    assert _selected("strace", differential, lifecycle) == {
        f"{differential}::test_every_task_tells_the_same_story_as_under_strace"
    }
    traced = _selected("ptrace", expectation, lifecycle, unit)
    assert {node.partition("::")[0] for node in traced} == {expectation, lifecycle}
