"""Explain a trace in words: interrupted calls and restarts, zombies and re-parenting, leaked descriptors.

Every finding is made of claims (:mod:`harness.analysis.claims`), each
naming the events it rests on, and its text is rendered from them; every
claim is checked against the trace again (:mod:`harness.analysis.verify`)
before it is shown.  The claims are derived from the trace's own evidence: the disposition in
force comes from the process's ``rt_sigaction`` history, what the kernel did
from what followed the interrupted call, what the program did from its next
calls.  The kernel's rules are in :mod:`harness.model.kernel` (``RESTART_OUTCOMES``,
``RESTART_RULES``), the facts about descriptors and zombies in
:mod:`harness.analysis.facts`; the explanation only applies them to one trace.

This module is its pipeline: it gathers the accounts of each kind
(:mod:`~harness.analysis.explain_interrupted` for each interrupted call,
with the facts about CPython it relies on;
:mod:`~harness.analysis.explain_processes` for each process's children and
descriptors), puts them in the order of the events they are about, has
every claim verified, and tells each lesson once.
:func:`harness.analysis.finding.render` writes the findings.

With Python frames (``--python-frames``) the accounts also say where in the
program each call was made, which Python handler ran after an interruption
(the frames stacked on the interrupted call's own), whether a retry came
from the standard library's call (PEP 475: the retried call has the same
stack, with a standard-library frame innermost) or from the program's own
code (its own frame innermost: nothing between it and the kernel retries),
and which code path reaped each child.
"""

from __future__ import annotations

import os

from harness.analysis import claims as c
from harness.analysis.explain_interrupted import explain_interruption
from harness.analysis.explain_processes import explain_children, explain_descriptors
from harness.analysis.facts import TraceIndex
from harness.analysis.finding import Finding
from harness.analysis.interruptions import interruptions
from harness.analysis.verify import ClaimRefuted, Verifier
from harness.model.record import replace
from harness.model.trace import Trace

__all__ = ["STRICT_ENV", "ClaimRefuted", "explain", "verified"]

#: Set (to anything but "" or "0") to make an unverifiable claim an error, not a withheld sentence: the test
#: suite sets it, so that a claim the trace does not support fails the test that made it.
STRICT_ENV = "HARNESS_STRICT_CLAIMS"


def explain(trace: Trace, *, strict: bool | None = None) -> list[Finding]:
    """Every account the trace supports, in the order of the events they are about; every claim verified.

    A claim the trace does not support is withheld and said to be (a fault of
    the harness's, never shown as true); with ``strict`` (default: the
    ``HARNESS_STRICT_CLAIMS`` environment variable) it raises :class:`ClaimRefuted`.
    """
    index = TraceIndex(trace)
    findings: list[Finding] = []
    findings.extend(explain_interruption(trace, index, account) for account in interruptions(index))
    findings.extend(explain_children(trace, index))
    findings.extend(explain_descriptors(trace, index))
    findings.sort(key=lambda finding: finding.at)
    if strict is None:
        strict = os.environ.get(STRICT_ENV, "") not in ("", "0")
    verifier = Verifier(trace, index)
    return _teach_once([verified(verifier, finding, strict) for finding in findings])


def verified(verifier: Verifier, finding: Finding, strict: bool) -> Finding:
    """The finding with each claim the trace does not support taken out, and named as withheld."""
    kept: list[c.Claim] = []
    withheld: list[str] = []
    for claim in finding.claims:
        problem = verifier.check(claim)
        if problem is None:
            kept.append(claim)
        elif strict:
            raise ClaimRefuted(f"{finding.title}: {claim.name} {claim.evidence}: {problem}")
        else:
            withheld.append(f"{claim.name} {list(claim.evidence)}: {problem}")
    return replace(finding, claims=tuple(kept), withheld=tuple(withheld))


def _teach_once(findings: list[Finding]) -> list[Finding]:
    """Keep each lesson in the first finding that needs it: the later ones state only their facts."""
    taught: set[str] = set()
    result = []
    for finding in findings:
        lessons = tuple(lesson for lesson in finding.lessons if lesson not in taught)
        taught.update(finding.lessons)
        result.append(replace(finding, lessons=lessons))
    return result
