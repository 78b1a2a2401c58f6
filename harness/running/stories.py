"""Golden stories of runs: record one (``harness record``), and diff two sources (``harness diff``).

A run is a :class:`~harness.running.sources.RunPlan`: a bundled variant, the
server of an expectation file, or a command of the user's own.  A story of a
failed run would mean nothing, so a plan whose run fails raises the run's
error instead of giving one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from harness.analysis.defaults import DEFAULT_START
from harness.analysis.golden import (
    GoldenTrace,
    golden_from_trace,
    write_golden,
)
from harness.analysis.story_diff import StoryDiff, common_start, compare, story_of
from harness.model.errors import UsageError
from harness.model.expectations import GOLDEN_SUFFIX
from harness.model.record import replace
from harness.model.scenario import DEFAULT_SCENARIO, Scenario
from harness.model.syscalls import check_syscalls
from harness.model.trace import Trace
from harness.running.sources import NO_OPTIONS, RunOptions, RunPlan, Source, plan_trace, read_source


def default_golden_path(variant: str) -> Path:
    """Where ``harness record`` writes a variant's golden file: ``expectations/golden/c_echo_server.golden.yaml``."""
    return Path("expectations", "golden", variant.replace("/", "_") + GOLDEN_SUFFIX)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A golden file written, and what it holds."""

    path: Path
    golden: GoldenTrace


def record_golden(
    source: str | RunPlan,
    scenario: Scenario = DEFAULT_SCENARIO,
    *,
    start_after: str = DEFAULT_START,
    path: Path | None = None,
) -> Recorded:
    """Run a plan (or a bundled variant by name, in ``scenario``) and write its normalized story from ``start_after``.

    Only a variant's name gives a default ``path``; for an expectation file
    or a command the caller must say where, and is told so before anything
    runs.  The golden file says where its story starts; ``golden.start_after``
    is None when the trace had no such call (the story starts at the beginning).
    """
    check_syscalls([start_after])
    plan = RunPlan.of_variant(source, scenario) if isinstance(source, str) else source
    if path is None:
        if plan.origin != "variant":
            raise UsageError(
                f"say where to write the golden file of {plan.label} with -o FILE "
                "(only a variant's name gives a default, expectations/golden/VARIANT.golden.yaml)"
            )
        path = default_golden_path(plan.label)
    trace = plan_trace(plan)
    # Stories leave Python frames out, so the file does not say whether they were read.
    # ``ready`` is written only where it is not 1, so that files recorded before it existed stay as they were.
    numbers = {
        key: value
        for key, value in asdict(plan.scenario).items()
        if key != "python_frames" and not (key == "ready" and value == DEFAULT_SCENARIO.ready)
    }
    # The label, as the user wrote it: the anchored command holds this machine's paths (the interpreter's, the
    # project's), which would change the file on every machine that records it again.
    golden = golden_from_trace(trace, server=plan.label, scenario=numbers, start_after=start_after)
    write_golden(path, golden)
    return Recorded(path, golden)


def diff_sources(a: str | Source, b: str | Source, *, options: RunOptions = NO_OPTIONS) -> StoryDiff:
    """Compare the stories of two sources: golden files, JSON Lines traces, or plans run now.

    Like is compared with like: a variant or a command is run in the scenario
    of the first golden file among the two (an expectation file in its own),
    with ``options`` over it, and traces are cut where that file's story starts.
    """
    labelled = [_labelled(source, side) for source, side in ((a, "A"), (b, "B"))]
    read = [item for _, item in labelled if not isinstance(item, RunPlan)]
    start_after = common_start(read)
    like = _scenario_like(read)
    stories = []
    for label, item in labelled:
        if isinstance(item, RunPlan):
            plan = item if item.origin == "expectation" else replace(item, scenario=like)
            item = plan_trace(plan.with_options(options))
        stories.append(story_of(label, item, start_after=start_after))
    return compare(*stories)


def _labelled(source: str | Source, side: str) -> tuple[str, Source]:
    """A source with the label its side of the diff is printed with: what the user wrote, or the plan's label."""
    if isinstance(source, str):
        return source, read_source(source)
    return (source.label if isinstance(source, RunPlan) else side), source


def _scenario_like(items: list[GoldenTrace | Trace]) -> Scenario:
    """The scenario a golden file was recorded in (its connections and messages), else the default one."""
    recorded = next((item.scenario for item in items if isinstance(item, GoldenTrace)), {})
    numbers = {key: value for key, value in recorded.items() if type(value) is int}  # Scenario checks the range
    return Scenario(
        connections=numbers.get("connections", DEFAULT_SCENARIO.connections),
        messages=numbers.get("messages", DEFAULT_SCENARIO.messages),
    )
