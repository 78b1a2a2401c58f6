"""A finding, the unit of an explanation, and the three ways it is written: text, Markdown and JSON.

Every kind of account (an interrupted call, a child's end, a descriptor
kept) ends as the same frozen value, so that one verifier checks its claims,
one function teaches each lesson once, and every reader (the terminal, an
issue, ``--format json``, the HTML report) writes it the same way from its
claims.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from harness.analysis import claims as c
from harness.analysis.defaults import Format
from harness.model.strace_format import escape_controls

#: What a finding is about: an interrupted call, a child's fate, or a descriptor kept open.
FindingKind = Literal[
    "interrupted", "zombie", "auto-reaped", "re-parented", "leaked-connection", "kept-listener", "closed-on-exec"
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One account: a title, the claims it makes about the trace, and the lessons they call for.

    ``at`` is the event the finding is about (the interrupted call, the
    child's exit, the accepted connection): findings are told in its order.
    """

    kind: FindingKind
    title: str
    at: int
    claims: tuple[c.Claim, ...]
    lessons: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    """Claims the verifier could not confirm, with why: never shown as true, said as a harness fault."""

    @property
    def details(self) -> tuple[str, ...]:
        """The finding's sentences: one for each claim, then :attr:`remarks`."""
        return tuple(claim.render() for claim in self.claims) + self.remarks

    @property
    def remarks(self) -> tuple[str, ...]:
        """What follows the claims: a note for each withheld one, then the lessons (no claim about the trace)."""
        faults = tuple(
            f"(The harness withheld a sentence it could not check against the trace: {why}. Please report it.)"
            for why in self.withheld
        )
        return faults + self.lessons

    @property
    def seqs(self) -> tuple[int, ...]:
        """The seq numbers of every event the finding's claims rest on."""
        return tuple(sorted({self.at, *(seq for claim in self.claims for seq in claim.evidence)}))

    def to_json(self) -> dict[str, object]:
        """The finding as JSON: its claims with their evidence, and the lessons as text."""
        return {
            "kind": self.kind,
            "title": self.title,
            "at": self.at,
            "roles": list(self.roles),
            "claims": [claim.to_json() for claim in self.claims],
            "lessons": list(self.lessons),
            "withheld": list(self.withheld),
        }


def render(findings: Sequence[Finding], *, format: Format = "text", width: int = 100) -> str:
    """Findings as plain text for a terminal, as Markdown for an issue or a lesson, or as JSON with their claims."""
    if format == "json":
        return json.dumps([finding.to_json() for finding in findings], indent=2) + "\n"
    if not findings:
        return "Nothing to explain: no interrupted call, no child process and no leaked descriptor in this trace.\n"
    blocks = []
    for finding in findings:
        # Each sentence escaped before it is wrapped: a name from the tracee's memory (a frame, a path) can
        # hold a newline, which must not become a line of its own, nor an escape sequence reach a terminal.
        details = [escape_controls(detail) for detail in finding.details]
        if format == "markdown":
            body = "\n".join(f"- {detail}" for detail in details)
            blocks.append(f"### {escape_controls(finding.title)}\n\n{body}\n")
        else:
            body = "\n".join(
                textwrap.fill(detail, width=width, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)
                for detail in details
            )
            blocks.append(f"{escape_controls(finding.title)}\n{body}\n")
    return "\n".join(blocks)
