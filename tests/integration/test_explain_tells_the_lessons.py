"""`harness explain` on real traces: each lesson told from the trace's own evidence.

Checked for content (the events, roles, flags and outcomes named), not for
exact wording.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import python_program
from support.runs import Run

from harness.analysis.explain import explain
from harness.analysis.finding import Finding, FindingKind, render
from harness.faces.cli import main
from harness.model.scenario import Scenario
from harness.running.sources import trace_of


def _of(findings: list[Finding], kind: FindingKind) -> list[Finding]:
    return [finding for finding in findings if finding.kind == kind]


def _text(finding: Finding) -> str:
    return " ".join((finding.title, *finding.details))


def test_no_sa_restart_is_explained_as_erestartsys_turned_into_eintr(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("sigchld_accept"), "norestart"])
    (interrupted,) = _of(explain(run.trace), "interrupted")
    text = _text(interrupted)
    assert "accept failed with EINTR" in interrupted.title
    assert "ERESTARTSYS" in text
    assert "without SA_RESTART" in text
    assert "SIGCHLD" in text and "main.1" in text and "exited with status 0" in text
    assert "rt_sigreturn" in text and "returned -EINTR" in text
    assert set(interrupted.roles) == {"main", "main.1"}


def test_sa_restart_is_explained_as_a_transparent_restart(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("sigchld_accept"), "restart"])
    (interrupted,) = _of(explain(run.trace), "interrupted")
    text = _text(interrupted)
    assert "accept was restarted" in interrupted.title
    assert "with SA_RESTART" in text
    assert "returned the call's own number" in text and "accept was entered again" in text
    assert "EINTR" not in text.replace("turns it into EINTR", "")


def test_sig_ign_children_are_explained_as_reaped_by_the_kernel(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("sigchld_accept"), "ign"])
    findings = explain(run.trace)
    (reaped,) = _of(findings, "auto-reaped")
    assert "SIG_IGN" in _text(reaped) and "ECHILD" in _text(reaped)
    assert not _of(findings, "zombie")


def test_python_retry_is_attributed_to_pep_475(traced: Callable[..., Run]) -> None:
    run = traced(python_program("pep475_accept.py"))
    (interrupted,) = _of(explain(run.trace), "interrupted")
    assert "PEP 475" in _text(interrupted)
    assert "called accept4 again" in _text(interrupted)


def test_the_zombie_variant_lists_its_zombies(ptrace_permitted: None) -> None:
    findings = explain(trace_of("fork_no_reap", Scenario(connections=3)))
    zombies = _of(findings, "zombie")
    assert {role for finding in zombies for role in finding.roles} >= {"main", "main.1", "main.2", "main.3"}
    assert all("never reaped by main" in finding.title for finding in zombies)
    restarts = _of(findings, "interrupted")
    assert restarts and all("restarted" in finding.title for finding in restarts)
    assert any("default action is to ignore" in _text(finding) for finding in restarts)


def test_the_leaky_variant_names_the_descriptors(ptrace_permitted: None) -> None:
    findings = explain(trace_of("fork_leaky", Scenario(connections=3)))
    leaked = " ".join(_text(finding) for finding in _of(findings, "leaked-connection"))
    assert "main accepted fd 4" in leaked and "main accepted fd 5" in leaked
    assert "FIN" in leaked
    kept = _of(findings, "kept-listener")
    assert {finding.roles for finding in kept} == {("main.1",), ("main.2",), ("main.3",)}
    assert all("listening socket fd 3" in _text(finding) for finding in kept)


def test_the_daemons_grandchild_is_described_as_re_parented(ptrace_permitted: None) -> None:
    findings = explain(trace_of("daemon_double_fork", Scenario(connections=2)))
    (orphan,) = _of(findings, "re-parented")
    assert "main.1.1 outlived its parent main.1" in orphan.title
    assert "subreaper" in _text(orphan)
    assert not _of(findings, "kept-listener")  # the middle process only forks and exits


def test_explain_prints_markdown_for_a_trace_file(
    ptrace_permitted: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl = tmp_path / "run.jsonl"
    assert main(["run", "fork_sigchld", "--connections", "2", "--jsonl", str(jsonl), "-o", "/dev/null"]) == 0
    capsys.readouterr()
    assert main(["explain", str(jsonl), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### #")
    assert "- At that moment SIGCHLD had a handler installed without SA_RESTART" in out
    assert out.count("An exited process does not vanish") == 1  # each lesson said once
    assert render([], format="text").startswith("Nothing to explain")
