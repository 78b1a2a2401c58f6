"""`harness explain` makes claims, each checked against the trace: the right lesson for each case, never a false one.

Real programs under real ptrace, one for each sentence a user found wrong:
a Python server whose forgotten ``close`` is made good by rebinding, one
whose descriptors really grow, a PEP 475 retry seen without frames, a
server with no SIGCHLD handler, a child that kills its helper and exits,
and a server whose SIGTERM handler exits.  The suite runs every explanation
strictly (``HARNESS_STRICT_CLAIMS``): a claim the verifier refutes fails here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import python_program
from support.runs import Run

from harness.analysis import claims as c
from harness.analysis.explain import explain
from harness.analysis.explain_processes import UNREAPED_LESSON
from harness.analysis.finding import Finding, FindingKind
from harness.analysis.verify import Verifier
from harness.faces.cli import main
from harness.model.expectations import ServerSpec
from harness.model.scenario import STOP_BY_ITSELF, Scenario, Stop
from harness.model.trace import Trace
from harness.model.variants import list_variants
from harness.running.serving import run_spec
from harness.running.sources import trace_of

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

SERVERS = Path(__file__).parent / "servers"


def _of(findings: list[Finding], kind: FindingKind) -> list[Finding]:
    return [finding for finding in findings if finding.kind == kind]


def _claims(findings: list[Finding], kind: type[c.Claim]) -> list[c.Claim]:
    return [claim for finding in findings for claim in finding.claims if isinstance(claim, kind)]


def _text(finding: Finding) -> str:
    return " ".join((finding.title, *finding.details))


def _served(command: tuple[str, ...], connections: int, stop: Stop = STOP_BY_ITSELF) -> Trace:
    run = run_spec(ServerSpec(command=command, stop=stop), Scenario(connections=connections))
    assert run.ok, run.failure()
    return run.trace


def test_a_forgotten_close_made_good_by_rebinding_is_no_growing_table() -> None:
    trace = _served((sys.executable, str(SERVERS / "forgets_close.py"), "{port}", "3"), 3)
    findings = explain(trace)
    kept = _of(findings, "leaked-connection")
    assert len(kept) == 2  # the first two connections; the last one is closed when the loop ends
    later = _claims(kept, c.ClosedLater)
    assert len(later) == 2 and all(isinstance(claim, c.ClosedLater) and claim.accept_seq for claim in later)
    text = " ".join(map(_text, kept))
    assert "rebinding" in text and "FIN waits for the next client" in text
    assert "EMFILE" not in text and not _claims(findings, c.DescriptorsGrow)


def test_descriptors_that_really_grow_are_said_to_grow_until_emfile() -> None:
    findings = explain(trace_of("fork_leaky", Scenario(connections=3)))
    (grows,) = _claims(findings, c.DescriptorsGrow)
    assert isinstance(grows, c.DescriptorsGrow) and grows.fds == (4, 5, 6)
    assert "EMFILE" in " ".join(map(_text, _of(findings, "leaked-connection")))


def test_a_pep_475_retry_without_frames_says_both_causes_and_picks_neither(traced: Callable[..., Run]) -> None:
    run = traced(python_program("pep475_accept.py"))
    (interrupted,) = _of(explain(run.trace), "interrupted")
    text = _text(interrupted)
    assert "Two causes fit" in text
    assert "So the program saw" not in text and "never sees the EINTR" not in text and "never saw the EINTR" not in text
    (eintr,) = _claims([interrupted], c.ReturnedEintr)
    assert isinstance(eintr, c.ReturnedEintr) and eintr.reader == "interpreter"


def test_each_restart_without_a_handler_names_its_own_re_entry_only() -> None:
    findings = explain(trace_of("fork_no_reap", Scenario(connections=3)))
    restarts = _of(findings, "interrupted")
    assert len(restarts) == 2
    for finding in restarts:
        assert _text(finding).count("entered again") == 1, _text(finding)


def test_a_helper_killed_by_a_child_that_exits_at_once_is_no_lasting_zombie(
    c_program: Callable[[str], Path],
) -> None:
    trace = _served((str(c_program("kills_its_helper")), "{port}", "2"), 2)
    findings = explain(trace)
    for connection in ("main.1", "main.2"):
        (helper,) = [
            f for f in _of(findings, "zombie") if f.title.endswith(f"{connection}.1 was never reaped by {connection}")
        ]
        (killed,) = _claims([helper], c.KilledBy)
        assert isinstance(killed, c.KilledBy) and (killed.sender, killed.signal) == (connection, "SIGTERM")
        assert _claims([helper], c.ReapedOnParentExit) and not _claims([helper], c.ServedOnWithZombie)
        assert UNREAPED_LESSON not in helper.lessons and "SA_RESTART" not in _text(helper)


def test_a_handler_that_exits_is_told_and_the_stop_signal_is_the_harnesss(c_program: Callable[[str], Path]) -> None:
    trace = _served((str(c_program("exits_in_handler")), "{port}"), 2, Stop("SIGTERM"))
    findings = explain(trace)
    assert [f.at for f in findings] == sorted(f.at for f in findings)
    interrupted = _of(findings, "interrupted")
    stop = interrupted[-1]  # the stop comes after every SIGCHLD story
    assert "(ERESTARTNOHAND, SIGTERM)" in stop.title and "never returned (its handler exited)" in stop.title
    (sent,) = _claims([stop], c.SignalDelivered)
    assert isinstance(sent, c.SignalDelivered) and sent.sender == "harness"
    (exited,) = _claims([stop], c.ExitedFromHandler)
    assert isinstance(exited, c.ExitedFromHandler) and "wait4" in exited.calls
    for finding in interrupted[:-1]:  # a SIGCHLD at its default: pselect6 entered again, never "never returned"
        assert "never returned" not in finding.title and _claims([finding], c.RestartedUnseen)


@pytest.mark.parametrize("variant", list_variants())
def test_every_claim_about_a_bundled_variant_holds(
    variant: str, record_property: Callable[[str, object], None]
) -> None:
    trace = trace_of(variant, Scenario(connections=3))
    findings = explain(trace, strict=True)
    verifier = Verifier(trace)
    made = [claim for finding in findings for claim in finding.claims]
    assert made and all(verifier.check(claim) is None for claim in made)
    record_property("claims", len(made))


def test_explain_writes_its_claims_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "fork_sigchld", "--format", "json"]) == 0
    findings = json.loads(capsys.readouterr().out)
    assert findings and all(finding["claims"] for finding in findings)
    for finding in findings:
        for claim in finding["claims"]:
            assert claim["claim"] and all(isinstance(seq, int) for seq in claim["evidence"])
    kinds = {claim["claim"] for finding in findings for claim in finding["claims"]}
    assert {"call-interrupted", "signal-delivered", "returned-eintr", "reaped-by"} <= kinds


def test_explain_keeps_the_trace_it_explains_and_explains_it_again_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "run.jsonl"
    assert main(["explain", "fork_sigchld", "--jsonl", str(kept), "--format", "json"]) == 0
    live = json.loads(capsys.readouterr().out)
    assert main(["explain", str(kept), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == live
