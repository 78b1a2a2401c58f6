"""Compare two runs' normalized stories, role by role: golden files, traces, or both.

A pure function of what was read or run (``harness diff`` does the reading
and running, in :mod:`harness.running.stories`).  Normalizing and the diff
itself are :mod:`harness.analysis.golden`'s; this module decides where each
story starts and what each side is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.analysis.defaults import DEFAULT_START
from harness.analysis.golden import GoldenTrace, diff_stories, golden_from_trace
from harness.model.trace import Trace


@dataclass(frozen=True, slots=True)
class Story:
    """One side of a comparison: what the reader called it, and each role's normalized lines."""

    label: str
    roles: Mapping[str, tuple[str, ...]]
    missed_start: str | None = None
    """The call the story was to start at, when the trace has none: then it runs from the beginning."""

    @property
    def events(self) -> int:
        """How many lines the story has, over all roles."""
        return sum(len(lines) for lines in self.roles.values())


@dataclass(frozen=True, slots=True)
class StoryDiff:
    """Two stories and the role-by-role diff of them (no lines: the same)."""

    a: Story
    b: Story
    lines: tuple[str, ...]

    @property
    def same(self) -> bool:
        """Whether every role tells the same story in both."""
        return not self.lines


def common_start(items: Sequence[GoldenTrace | Trace]) -> str | None:
    """Where the stories of traces start: where the first golden file's did (like with like), else at listen."""
    goldens = [item for item in items if isinstance(item, GoldenTrace)]
    return goldens[0].start_after if goldens else DEFAULT_START


def story_of(label: str, item: GoldenTrace | Trace, *, start_after: str | None) -> Story:
    """A golden file's story as recorded, or a trace's story from its first ``start_after`` call."""
    if isinstance(item, GoldenTrace):
        return Story(label, dict(item.roles))
    golden = golden_from_trace(item, start_after=start_after)
    missed = start_after if golden.start_after is None and start_after is not None else None
    return Story(label, dict(golden.roles), missed)


def compare(a: Story, b: Story) -> StoryDiff:
    """The diff of two stories; two sides with the same label are told apart as (A) and (B)."""
    a_label, b_label = (a.label, b.label) if a.label != b.label else (f"{a.label} (A)", f"{b.label} (B)")
    return StoryDiff(a, b, tuple(diff_stories(a.roles, b.roles, a_label=a_label, b_label=b_label)))
