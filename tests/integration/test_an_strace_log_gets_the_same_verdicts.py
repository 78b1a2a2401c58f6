"""An expectation file gives the same verdicts on strace's log of a run as on the harness's own trace of it.

Each bundled expectation file (every bundled variant's) and two real servers
of ``examples/`` (socat, xinetd) are run twice "in the same way": once by
``harness check``, and once under ``strace -f -o LOG`` with the same command,
the same clients, the same pacing (each client once the server is at rest),
the same stop and the same injections (strace's own ``--inject``)
(:mod:`support.strace_runs`).  Then ``harness check --trace LOG`` must give
each assertion the verdict the harness's run gave it, and ``harness explain``
the same kinds of findings.

Where a verdict cannot be the same, this test says so and why, and leaves it out:

* a ``sweep:`` assertion runs the server again, once per place it sleeps: a
  file, strace's or the harness's, cannot be swept;
* a ``golden:`` story holds the end of the run, after the last client:
  whether the last child exits before its parent's last ``wait4`` is the
  harness's schedule's to decide; under strace no client is left to pace
  it, and the two orders come about (the per-task stories of both tracers
  are compared in test_differential_strace.py);
* socat's child kills its ``cat`` and exits: whether it reaps it first is a
  race of socat's own, which ``explain`` tells as a re-parented zombie when
  socat loses it;
* a worker thread's ``exit(0)`` races its process's ``exit_group``: the
  harness's deterministic schedule orders them, strace's free run does not;
* strace does not print which descriptors a process holds after an exec (the
  harness reads them from ``/proc`` at the exec), so a fact about a descriptor
  an exec closed (xinetd's close-on-exec listener) has nothing to stand on in
  an strace log, and ``explain`` tells a kept listener instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.programs import EXPECTATIONS
from support.strace_runs import run_under_strace

from harness.analysis.explain import explain
from harness.model.expectations import GoldenCheck
from harness.model.loader import load_expectations
from harness.model.sweep import SweepCheck
from harness.running.check import FileCheckedOnTrace, check_file, check_files_on_trace
from harness.running.sources import RunPlan, read_trace

EXAMPLES = Path(__file__).parents[2] / "examples"

#: Verdicts an strace log cannot give as the harness's run does, by file and assertion name, with why.
CANNOT_BE_THE_SAME: dict[tuple[str, str], str] = {
    (
        "xinetd.expect.yaml",
        "the listening socket is close-on-exec, so each service's execve closes it, with no close of its own",
    ): "strace prints no descriptor list at an exec, which this fact reads",
    ("fork_threads.expect.yaml", "every thread exits by itself"): "a worker thread's exit(0) races its process's "
    "exit_group (Python's join returns before the thread's last call): the harness's deterministic schedule lets "
    "the thread end first; under strace the process wins now and then, and kills the thread before its exit(0)",
}
#: Kinds of findings an strace log cannot give, by file, with why.
FINDINGS_IT_CANNOT_GIVE: dict[str, tuple[set[str], str]] = {
    "xinetd.expect.yaml": ({"closed-on-exec", "kept-listener"}, "no descriptor list at an exec in an strace log"),
    "socat.expect.yaml": ({"re-parented"}, "socat's child may exit before it reaps its cat, a race of socat's own"),
}

FILES = [
    *sorted(EXPECTATIONS.glob("*.expect.yaml")),
    EXAMPLES / "socat" / "socat.expect.yaml",
    EXAMPLES / "xinetd" / "xinetd.expect.yaml",
]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name.removesuffix(".expect.yaml"))
def test_check_and_explain_tell_an_strace_log_as_the_harness_run(
    path: Path, strace: Path, ptrace_permitted: None, tmp_path: Path
) -> None:
    if path.parent.parent == EXAMPLES and shutil.which(path.parent.name) is None:
        pytest.skip(f"{path.parent.name} is not installed: apt-get install {path.parent.name}")
    expectation = load_expectations(path)
    harness_run = check_file(expectation)
    assert harness_run.run.ok, harness_run.run.summary()

    log = tmp_path / "strace.log"
    run_under_strace(RunPlan.of_expectation(expectation), strace, log)
    trace = read_trace(str(log))
    (on_log,) = check_files_on_trace([path], log, trace)
    assert isinstance(on_log, FileCheckedOnTrace)

    compared = [
        (ours.assertion.name, ours.passed, theirs.passed)
        for ours, theirs in zip(harness_run.results, on_log.results, strict=True)
        # a sweep runs the server again: no file can be swept; a golden story holds the run's unpaced end
        if not isinstance(ours.assertion.check, SweepCheck | GoldenCheck)
        and (path.name, ours.assertion.name) not in CANNOT_BE_THE_SAME
    ]
    assert compared, "nothing compared"
    assert [(name, ours) for name, ours, _ in compared] == [(name, theirs) for name, _, theirs in compared]
    left_out, _why = FINDINGS_IT_CANNOT_GIVE.get(path.name, (set(), ""))
    assert {finding.kind for finding in explain(trace)} - left_out == {
        finding.kind for finding in explain(harness_run.run.trace)
    } - left_out
