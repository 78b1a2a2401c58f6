"""A source that is run becomes a plan: a variant, an expectation file or the user's own command, run the same way.

"The user's server" here is a copy of a bundled Python variant in a directory
of its own, run through ``{python}``, as a person would run theirs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.analysis.verdicts import evaluate
from harness.model.command_lines import server_spec_of_command
from harness.model.errors import TraceInputError, UsageError
from harness.model.injection import parse_injection
from harness.model.loader import load_expectations
from harness.model.scenario import Scenario
from harness.model.variants import servers_dir
from harness.running.check import FileCheckedOnTrace, check_files_on_trace
from harness.running.sources import RunOptions, RunPlan, plan_of, plan_trace, read_trace, run_plan
from harness.running.stories import diff_sources, record_golden

#: The user's server's command line, as it is written after ``--``.
USER_COMMAND = ("{python}", "my_server.py", "--port", "{port}", "--connections", "{connections}")


def _users_server(directory: Path, variant: str = "fork_sigchld") -> Path:
    """A copy of a bundled variant as ``my_server.py`` (with the module it imports): a server the harness never saw."""
    directory.mkdir(exist_ok=True)
    shutil.copy(servers_dir() / f"{variant}.py", directory / "my_server.py")
    shutil.copy(servers_dir() / "_common.py", directory / "_common.py")
    return directory


def _expectation(directory: Path, body: str) -> Path:
    path = directory / "mine.expect.yaml"
    path.write_text(
        "server:\n  command: ['{python}', my_server.py, --port, '{port}', --connections, '{connections}']\n" + body
    )
    return path


def test_options_replace_only_what_the_command_line_gives() -> None:
    scenario = Scenario(connections=5, messages=2, concurrency=3, mode="free")
    assert RunOptions().over(scenario) == scenario
    assert RunOptions(connections=2, mode="free").over(scenario) == Scenario(2, 2, 3, "free")
    with pytest.raises(UsageError, match="deterministic mode serves one connection at a time"):
        RunOptions(mode="deterministic").over(scenario)  # the result is checked as any scenario is


def test_an_expectation_file_plans_its_server_scenario_timeout_calls_and_injections(tmp_path: Path) -> None:
    path = _expectation(
        _users_server(tmp_path),
        "scenario: {connections: 2, messages: 3}\ntimeout: 20\ninject: ['accept4:error=EINTR:when=1']\n"
        "assertions:\n  - name: polls\n    never: poll\n",
    )
    plan = plan_of(str(path))
    assert plan.origin == "expectation" and plan.label == str(path)
    assert plan.server.command[1] == str(tmp_path / "my_server.py")  # anchored at the file's directory
    assert (plan.scenario, plan.timeout, plan.syscalls) == (Scenario(connections=2, messages=3), 20.0, ("poll",))
    more = parse_injection("close:signal=SIGUSR1:when=1")
    given = plan.with_options(RunOptions(connections=4, timeout=5, injections=(more,)))
    assert (given.scenario, given.timeout) == (Scenario(connections=4, messages=3), 5.0)
    assert given.injections == (*plan.injections, more)  # added to the file's, not in their place


def test_a_trace_or_a_golden_file_is_no_server_to_run(tmp_path: Path) -> None:
    with pytest.raises(TraceInputError, match=r"run\.jsonl: a trace is not a server to run"):
        plan_of("run.jsonl")
    with pytest.raises(TraceInputError, match=r"g\.golden\.yaml: a golden file is not a server to run"):
        plan_of("g.golden.yaml")


def test_a_command_without_its_port_gets_the_loaders_message(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"the command must be told its port: put \{port\} where it goes"):
        server_spec_of_command(["./my_server"], protocol="echo", here=tmp_path)


def test_recording_a_command_without_a_path_is_refused_before_anything_runs(tmp_path: Path) -> None:
    # The program does not exist: had it been run, the error would be another one.
    plan = RunPlan.of_command(server_spec_of_command(["./absent", "{port}"], protocol="echo", here=tmp_path))
    with pytest.raises(UsageError, match=r"say where to write the golden file of .*absent .* with -o FILE"):
        record_golden(plan)


@pytest.mark.ptrace
def test_the_users_command_runs_records_and_diffs_like_a_variant(ptrace_permitted: None, tmp_path: Path) -> None:
    here = _users_server(tmp_path / "project")
    plan = RunPlan.of_command(server_spec_of_command(USER_COMMAND, protocol="echo", here=here), label="mine")
    plan = plan.with_options(RunOptions(connections=2))
    run = run_plan(plan)
    assert run.name == "mine" and run.result.ok, run.result.summary()
    assert run.result.trace.roles() == ["main", "main.1", "main.2"]

    golden = tmp_path / "golden" / "mine.golden.yaml"
    assert record_golden(plan, path=golden).golden.server == "mine"  # as the user named it, not this machine's paths
    # The copy behaves as the bundled variant it was copied from, and unlike its sibling.
    assert diff_sources(str(golden), "fork_sigchld").same
    assert not diff_sources(str(golden), "fork_sigchld_restart").same
    assert diff_sources(str(golden), RunPlan.of_command(plan.server)).same  # in the golden file's scenario


@pytest.mark.ptrace
def test_a_saved_trace_is_checked_without_running_anything(ptrace_permitted: None, tmp_path: Path) -> None:
    path = _expectation(
        _users_server(tmp_path),
        "assertions:\n  - name: every child is reaped\n    fact: no zombie left\n",
    )
    zombies = tmp_path / "zombies.jsonl"
    with zombies.open("w") as stream:
        plan_trace(RunPlan.of_variant("fork_no_reap", Scenario(connections=2))).write_jsonl(stream)
    [outcome] = check_files_on_trace([path], zombies, read_trace(str(zombies)))
    assert isinstance(outcome, FileCheckedOnTrace) and outcome.trace_file == zombies
    [result] = outcome.results
    assert not result.passed and "zombie" in result.report()
    assert not (tmp_path / "mine.failed.jsonl").exists()  # nothing ran, so nothing was kept


@pytest.mark.ptrace
def test_a_missing_golden_file_names_the_command_that_records_it(ptrace_permitted: None, tmp_path: Path) -> None:
    path = _expectation(
        _users_server(tmp_path),
        "assertions:\n  - name: the story\n    golden: golden/mine.golden.yaml\n",
    )
    expectation = load_expectations(path)
    [result] = evaluate(expectation, plan_trace(RunPlan.of_expectation(expectation)))
    hint = f"record it with: harness record {path} -o {tmp_path / 'golden' / 'mine.golden.yaml'}"
    assert hint in result.report()
    # ... and that command works: it writes the file, and the same file now passes.
    record_golden(plan_of(str(path)), path=tmp_path / "golden" / "mine.golden.yaml")
    [result] = evaluate(expectation, plan_trace(RunPlan.of_expectation(expectation)))
    assert result.passed, result.report()
