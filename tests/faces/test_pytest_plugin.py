"""The pytest plugin as a user meets it: collection, item names, -k, failure reports, the fixture, xdist.

Each test writes files into a fresh directory and runs pytest on them in a
subprocess (the tracer must be the only waiter on its children), then
checks the exact lines a person would read.
"""

from __future__ import annotations

import pytest
from support.programs import PYTHON, SERVERS

REAPING = """\
server: fork_sigchld
scenario: {connections: 2}
start_after: listen($listen)
assertions:
  - name: the parent reaps every child
    count: wait4 -> child
    equals: connections
  - name: no zombie is left
    fact: no zombie left
  - name: accept is interrupted
    sequence:
      - accept4 -> ERESTARTSYS
      - rt_sigreturn -> EINTR
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ptrace_permitted: None) -> pytest.Pytester:
    """A directory with the bundled servers reachable, as a user's checkout would have them."""
    monkeypatch.setenv("HARNESS_SERVERS", str(SERVERS))
    return pytester


def test_each_assertion_is_an_item_named_after_it(project: pytest.Pytester) -> None:
    project.makefile(".expect.yaml", reaping=REAPING)
    result = project.runpytest_subprocess("-v", "reaping.expect.yaml")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "reaping.expect.yaml::the parent reaps every child PASSED*",
            "reaping.expect.yaml::no zombie is left PASSED*",
            "reaping.expect.yaml::accept is interrupted PASSED*",
        ]
    )


def test_k_selects_assertions_by_name(project: pytest.Pytester) -> None:
    project.makefile(".expect.yaml", reaping=REAPING)
    result = project.runpytest_subprocess("-v", "-k", "zombie", "reaping.expect.yaml")
    result.assert_outcomes(passed=1, deselected=2)


def test_other_yaml_files_are_left_alone(project: pytest.Pytester) -> None:
    project.makefile(".yaml", config="server: [this is not an expectation")
    result = project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_sibling_server_fails_with_the_report_naming_the_zombies(project: pytest.Pytester) -> None:
    project.makefile(".expect.yaml", reaping=REAPING)
    result = project.runpytest_subprocess("--harness-server", "fork_no_reap", "reaping.expect.yaml")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*count of 'wait4 -> child' in main: expected == 2 (connections), counted 0",
            "*_ expectation: no zombie is left _*",
            "*reaping.expect.yaml:8:1: 'no zombie is left' failed (main)",
            "*main: 2 violations of 'no zombie left'",
            "*main.1 (pid *) exited at #* and was never reaped: still a zombie when main exited at #*",
            "*main.2 (pid *) exited at #* and was never reaped: still a zombie when main exited at #*",
            "*>  2  rt_sigreturn -> EINTR  (line 13)",
            "*trace of the run: *reaping.fork_no_reap.failed.jsonl*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_broken_file_is_a_collection_error_with_file_line_and_fix(project: pytest.Pytester) -> None:
    project.makefile(".expect.yaml", broken=REAPING.replace("    sequence:", "    sequnce:"))
    result = project.runpytest_subprocess("broken.expect.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting broken.expect.yaml*",
            "*broken.expect.yaml:11:5: unknown key 'sequnce'; did you mean 'sequence'?",
            "*    sequnce:",
            "*    ^",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_capture_used_once_is_a_warning_in_the_summary_and_the_assertion_still_runs(
    project: pytest.Pytester,
) -> None:
    typo = REAPING + "  - name: the parent closes what it accepted\n    sequence: [accept4 -> $conn, close($con)]\n"
    project.makefile(".expect.yaml", typo=typo)
    result = project.runpytest_subprocess("typo.expect.yaml")
    result.assert_outcomes(passed=4)  # a warning is not a failure: this one passes, and is most likely a typo
    result.stdout.fnmatch_lines(
        [
            "*= expectation file warnings =*",
            "*typo.expect.yaml:15:27: warning: $conn is used only once in assertion 'the parent closes what it "
            "accepted'*a typo of $con?*",
            "*typo.expect.yaml:15:40: warning: $con is used only once*a typo of $conn?*",
            "*4 passed*",
        ]
    )


def test_the_fixture_runs_a_server_and_matches_like_the_yaml(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_traces="""
        import pytest

        def test_eintr(harness_run):
            trace = harness_run("fork_sigchld", connections=2)
            trace.sequence("accept4 -> $conn", "clone -> $child", "close($conn)", "accept4 -> EINTR")
            trace.never("accept4 -> restarted")
            trace.fact("no zombie left")
            assert trace.count("wait4 -> child") == 2
            assert trace.captures == {"listen": 3}

        def test_restart_breaks_the_promise(harness_run):
            trace = harness_run("fork_sigchld_restart", connections=2)
            trace.never("accept4 -> restarted")
        """
    )
    result = project.runpytest_subprocess("test_traces.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TraceAssertionError: 'never accept4 -> restarted' failed (main)",
            "*'accept4 -> restarted' happened * in main",
        ]
    )


def test_runs_in_parallel_with_xdist_each_on_its_own_port(project: pytest.Pytester) -> None:
    for name in ("one", "two", "three", "four"):
        project.makefile(".expect.yaml", **{name: REAPING})
    result = project.runpytest_subprocess("-n", "2", "-p", "no:benchmark")
    result.assert_outcomes(passed=12)


GOLDEN = """\
server: fork_sigchld
scenario: {connections: 2}
start_after: listen($listen)
assertions:
  - name: the story is the recorded one
    golden: golden/reaping.golden.yaml
"""


def test_golden_traces_are_recorded_on_purpose_then_compared(project: pytest.Pytester) -> None:
    project.makefile(".expect.yaml", reaping=GOLDEN)
    missing = project.runpytest_subprocess("reaping.expect.yaml")
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(["*cannot use the golden trace*", "*pytest --harness-record-golden*"])

    recorded = project.runpytest_subprocess("reaping.expect.yaml", "--harness-record-golden")
    recorded.assert_outcomes(passed=1)
    golden = project.path / "golden" / "reaping.golden.yaml"
    assert "rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)" in golden.read_text()

    project.runpytest_subprocess("reaping.expect.yaml").assert_outcomes(passed=1)
    changed = project.runpytest_subprocess("reaping.expect.yaml", "--harness-server", "fork_sigchld_restart")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*the run's story differs from the golden trace*reaping.golden.yaml",
            "*-rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)",
            "*+rt_sigreturn({mask=[]}) = (restarts accept4)",
        ]
    )


def test_the_fixture_takes_roles_whole_traces_and_injections(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_more="""
        def test_more(harness_run):
            trace = harness_run("fork_sigchld_raises", connections=2, inject=["accept4:error=EINTR:when=1"])
            trace.sequence("rt_sigaction(SIGCHLD, act.flags=!SA_RESTART)", whole_trace=True)
            assert trace.count("rt_sigaction", whole_trace=True) > trace.count("rt_sigaction")
            trace.sequence("close($listen)", "+++ exited 0", role="every child")
            trace.sequence("accept4 -> EINTR", "accept4 -> $conn", adjacent=True)
            assert [event.injected for event in trace.find("accept4 -> EINTR")][:1] == [True]
        """
    )
    project.runpytest_subprocess("test_more.py").assert_outcomes(passed=1)


def test_a_file_runs_its_server_once_for_all_its_assertions(project: pytest.Pytester) -> None:
    server = SERVERS / "fork_sigchld.py"
    # The command notes each start in runs.log, then becomes the server (exec keeps the traced pid).
    command = f"sh -c 'echo started >> runs.log; exec {PYTHON} {server} --port {{port}} --connections 2'"
    project.makefile(
        ".expect.yaml", reaping=REAPING.replace("server: fork_sigchld", f'server: {{command: "{command}"}}')
    )
    project.runpytest_subprocess("reaping.expect.yaml").assert_outcomes(passed=3)
    assert (project.path / "runs.log").read_text() == "started\n"


def test_a_server_that_cannot_run_is_one_error_per_assertion_with_no_traceback(project: pytest.Pytester) -> None:
    project.makefile(
        ".expect.yaml",
        broken=REAPING.replace("server: fork_sigchld", 'server: {command: "./no-such-server --port {port}"}'),
    )
    result = project.runpytest_subprocess("broken.expect.yaml")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of expectation: the parent reaps every child*", "the server could not be run: *not found*"]
    )
    # One report per assertion (counted at line starts: under CI=true pytest repeats each in its short summary).
    assert sum(line.startswith("the server could not be run: ") for line in result.stdout.lines) == 3
    assert "Traceback" not in result.stdout.str()
