"""The verifier refutes claims with wrong evidence, and explain never shows a claim it refutes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.stories import Story

from harness.analysis import claims as c
from harness.analysis.defaults import Format
from harness.analysis.explain import ClaimRefuted, explain, verified
from harness.analysis.finding import render
from harness.analysis.verify import Verifier
from harness.model import record
from harness.model.trace import Trace


def _reaped_story() -> tuple[Trace, dict[str, int]]:
    """The story: main accepts fd 4, forks main.1 (pid 101), closes fd 4; main.1 exits; main reaps it."""
    story = Story()
    seqs = {"accept": story.call("main", "accept4", 4, fd=3).seq}
    seqs["spawn"] = story.spawn("main", "main.1").seq
    story.call("main", "clone", 101, flags=["SIGCHLD"])
    seqs["close"] = story.call("main", "close", 0, fd=4).seq
    seqs["exit"] = story.exit("main.1").seq
    seqs["wait"] = story.call("main", "wait4", 101, pid=-1, options=[]).seq
    return story.trace(), seqs


def test_the_claims_explain_makes_of_a_reaped_child_hold() -> None:
    trace, _ = _reaped_story()
    verifier = Verifier(trace)
    made = [claim for finding in explain(trace, strict=True) for claim in finding.claims]
    assert any(isinstance(claim, c.ReapedBy) for claim in made)
    assert all(verifier.check(claim) is None for claim in made)


@pytest.mark.parametrize(
    ("wrong", "reason"),
    [
        (lambda s: c.ReapedBy("main.1", 101, "main", "wait4", s["close"], s["exit"], None, None), "no wait of main"),
        (lambda s: c.ReapedBy("main.1", 999, "main", "wait4", s["wait"], s["exit"], None, None), "pid 999"),
        (lambda s: c.NeverReaped("main.1", 101, "main", s["exit"], None, None), "collected it"),
        (lambda s: c.ChildEnded("main.1", 101, s["exit"], 1, None), "it ended 0"),
        (lambda s: c.ConnectionKept("main", 4, s["accept"], None, None), "closed it"),
        (lambda s: c.ClosedLater("main", 4, s["close"], None, True, None), "wrong about CPython"),
        (lambda s: c.ReapedBy("main.1", 101, "main", "wait4", 10_000, s["exit"], None, None), "no event of this trace"),
    ],
    ids=["a wait that is a close", "another pid", "never reaped", "another status", "kept", "CPython", "no such event"],
)
def test_a_claim_with_wrong_evidence_is_refuted_with_its_reason(
    wrong: Callable[[dict[str, int]], c.Claim], reason: str
) -> None:
    trace, seqs = _reaped_story()
    problem = Verifier(trace).check(wrong(seqs))
    assert problem is not None and reason in problem


def test_a_refuted_claim_fails_a_strict_explanation_and_is_withheld_from_a_users() -> None:
    trace, seqs = _reaped_story()
    (finding,) = [f for f in explain(trace) if f.kind == "zombie"]
    forged = record.replace(
        finding, claims=(*finding.claims, c.NeverReaped("main.1", 101, "main", seqs["exit"], None, None))
    )
    with pytest.raises(ClaimRefuted, match=r"never-reaped .*collected it"):
        verified(Verifier(trace), forged, strict=True)
    shown = verified(Verifier(trace), forged, strict=False)
    assert not any(isinstance(claim, c.NeverReaped) for claim in shown.claims)
    text = render([shown])
    assert "stayed a zombie" not in text and "withheld a sentence" in text


@pytest.mark.parametrize("format", ["text", "markdown"])
def test_a_forged_name_in_a_claim_cannot_forge_a_line_of_the_explanation(format: Format) -> None:
    trace, seqs = _reaped_story()
    (finding,) = [f for f in explain(trace) if f.kind == "zombie"]
    forged = "serve\n[pid 1 main] forged() = 0\x1b]0;title\x07"
    reaped = c.ReapedBy("main.1", 101, "main", "wait4", seqs["wait"], seqs["exit"], None, forged)
    text = render([record.replace(finding, claims=(reaped,))], format=format, width=1000)
    assert "forged() = 0" in text and "\x1b" not in text and "\x07" not in text
    assert not any(line.lstrip("- ").startswith("[pid 1 main] forged") for line in text.splitlines())
