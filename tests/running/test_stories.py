"""``harness record`` and ``harness diff`` as functions, on real runs of the bundled variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.analysis.golden import read_golden
from harness.model.errors import UsageError
from harness.model.scenario import Scenario
from harness.running.stories import default_golden_path, diff_sources, record_golden

pytestmark = pytest.mark.ptrace


def test_the_default_golden_path_names_the_variant() -> None:
    assert default_golden_path("c/echo_server") == Path("expectations/golden/c_echo_server.golden.yaml")


def test_a_recorded_story_diffs_clean_against_a_new_run_and_not_against_a_sibling(
    tmp_path: Path, ptrace_permitted: None
) -> None:
    path = tmp_path / "fork_sigchld.golden.yaml"
    recorded = record_golden("fork_sigchld", Scenario(connections=2), path=path)
    assert recorded.path == path
    assert read_golden(path) == recorded.golden
    assert recorded.golden.scenario["connections"] == 2 and recorded.golden.start_after == "listen"

    same = diff_sources(str(path), "fork_sigchld")  # the variant runs in the golden file's scenario
    assert same.same and same.b.events == same.a.events

    changed = diff_sources(str(path), "fork_sigchld_restart")
    assert not changed.same
    assert "-rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)" in changed.lines


def test_a_story_whose_start_call_is_not_in_the_trace_starts_at_the_beginning(
    tmp_path: Path, ptrace_permitted: None
) -> None:
    # bind is a real call, but not one the tracer records by default: the trace has none.
    recorded = record_golden("fork_sigchld", Scenario(connections=1), start_after="bind", path=tmp_path / "g.yaml")
    assert recorded.golden.start_after is None
    assert read_golden(recorded.path).start_after is None
    assert recorded.golden.roles["main"][0].startswith("+++ exec")


def test_an_unknown_start_call_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown syscall 'lisen'; did you mean 'listen'"):
        record_golden("fork_sigchld", start_after="lisen", path=tmp_path / "g.yaml")
    assert not (tmp_path / "g.yaml").exists()
