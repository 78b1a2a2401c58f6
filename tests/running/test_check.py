"""``harness check`` as a function: each file's outcome, the traces it keeps, and the tally (real runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model.loader import ExpectationError, load_expectations
from harness.running.check import CheckSummary, FileChecked, FileInvalid, FileNotRun, check_and_keep, check_files
from harness.running.serving import server_spec

pytestmark = pytest.mark.ptrace

REAPING = """\
server: fork_sigchld
scenario: {connections: 2}
assertions:
  - name: the parent reaps every child
    count: wait4 -> child
    equals: connections
  - name: no zombie is left
    fact: no zombie left
"""


@pytest.fixture
def reaping(tmp_path: Path) -> Path:
    path = tmp_path / "reaping.expect.yaml"
    path.write_text(REAPING)
    return path


def test_a_failing_run_keeps_its_trace_and_a_clean_run_removes_it(reaping: Path, ptrace_permitted: None) -> None:
    expectation = load_expectations(reaping)
    failed = check_and_keep(expectation, server=server_spec("fork_no_reap"))
    assert [result.passed for result in failed.results] == [False, False]
    assert failed.failure_trace == reaping.parent / "reaping.fork_no_reap.failed.jsonl"
    assert failed.failure_trace.with_suffix(".txt").exists()

    own_stale = reaping.parent / "reaping.failed.jsonl"
    own_stale.write_text("an earlier failing run of the file's own server\n")
    own_stale.with_suffix(".txt").write_text("its text\n")
    passed = check_and_keep(expectation)
    assert passed.passed and passed.failure_trace is None
    assert not own_stale.exists() and not own_stale.with_suffix(".txt").exists()
    assert failed.failure_trace.exists()  # another server's trace is not this file's to remove


def test_traces_go_to_the_directory_asked_for(reaping: Path, tmp_path: Path, ptrace_permitted: None) -> None:
    kept = check_and_keep(load_expectations(reaping), server=server_spec("fork_no_reap"), traces=tmp_path / "out")
    assert kept.failure_trace == tmp_path / "out" / "reaping.fork_no_reap.failed.jsonl"
    assert kept.failure_trace.exists()


def test_each_file_has_its_outcome_and_the_tally_its_exit_status(
    reaping: Path, tmp_path: Path, ptrace_permitted: None
) -> None:
    invalid = tmp_path / "invalid.expect.yaml"
    invalid.write_text(REAPING.replace("count:", "cuont:"))
    unrunnable = tmp_path / "unrunnable.expect.yaml"
    unrunnable.write_text(REAPING.replace("server: fork_sigchld", 'server: {command: "./no-such-server {port}"}'))

    outcomes = list(check_files([reaping, invalid, unrunnable]))
    checked, bad, not_run = outcomes
    assert isinstance(checked, FileChecked) and checked.passed
    assert isinstance(bad, FileInvalid) and isinstance(bad.error, ExpectationError)
    assert "unknown key 'cuont'" in str(bad.error)
    assert isinstance(not_run, FileNotRun) and "command not found" in str(not_run.error)

    summary = CheckSummary.of(outcomes)
    assert (summary.files, summary.passed, summary.failed) == (3, 2, 0)
    assert str(summary) == "2 passed, 0 failed, 1 invalid file(s), 1 could not run"
    assert summary.exit_status == not_run.error.exit_status  # a run that could not start comes first
    assert CheckSummary.of(outcomes[:2]).exit_status == 65
    assert CheckSummary.of(outcomes[:1]).exit_status == 0


def test_a_broken_promise_makes_the_tally_fail(reaping: Path, ptrace_permitted: None) -> None:
    outcomes = list(check_files([reaping], server=server_spec("fork_no_reap")))
    summary = CheckSummary.of(outcomes)
    assert (summary.passed, summary.failed, summary.exit_status) == (0, 2, 1)
