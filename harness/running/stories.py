"""Golden stories of runs: record a variant's (``harness record``), and diff two sources (``harness diff``).

A story of a failed run would mean nothing, so a variant whose run fails
raises the run's error instead of giving one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from harness.analysis.golden import (
    DEFAULT_START,
    GOLDEN_SUFFIX,
    GoldenTrace,
    golden_from_trace,
    read_golden,
    write_golden,
)
from harness.analysis.story_diff import StoryDiff, common_start, compare, story_of
from harness.model.expectations import ServerSpec
from harness.model.scenario import DEFAULT_SCENARIO, Scenario
from harness.model.syscalls import check_syscalls
from harness.model.trace import Trace
from harness.running.check import server_spec
from harness.running.sources import read_trace, source_kind, variant_trace


def default_golden_path(variant: str) -> Path:
    """Where ``harness record`` writes a variant's golden file: ``expectations/golden/c_echo_server.golden.yaml``."""
    return Path("expectations", "golden", variant.replace("/", "_") + GOLDEN_SUFFIX)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A golden file written, and what it holds."""

    path: Path
    golden: GoldenTrace


def record_golden(
    variant: str, scenario: Scenario = DEFAULT_SCENARIO, *, start_after: str = DEFAULT_START, path: Path | None = None
) -> Recorded:
    """Run a bundled variant and write its normalized story from its first ``start_after`` call.

    The golden file says where its story starts; ``golden.start_after`` is
    None when the trace had no such call (the story starts at the beginning).
    """
    check_syscalls([start_after])
    name = str(server_spec(variant))
    trace = variant_trace(name, scenario)
    golden = golden_from_trace(trace, server=name, scenario=asdict(scenario), start_after=start_after)
    path = path or default_golden_path(name)
    write_golden(path, golden)
    return Recorded(path, golden)


def _read(source: str) -> GoldenTrace | Trace | ServerSpec:
    """A golden file or a trace read now, or a variant to run (its name checked now, run later)."""
    kind = source_kind(source)
    if kind == "golden":
        return read_golden(source)
    if kind == "trace":
        return read_trace(source)
    return server_spec(source)


def diff_sources(a: str, b: str, *, connections: int | None = None) -> StoryDiff:
    """Compare the stories of two sources, each a golden file, a JSON Lines trace or a variant run now.

    Like is compared with like: a variant is run in the scenario of the first
    golden file among the two (``connections`` in its place when given), and
    traces are cut where that file's story starts.
    """
    items = [_read(a), _read(b)]
    read = [item for item in items if not isinstance(item, ServerSpec)]
    start_after = common_start(read)
    stories = []
    for source, item in zip((a, b), items, strict=True):
        if isinstance(item, ServerSpec):
            item = variant_trace(str(item), _scenario_like(read, connections))
        stories.append(story_of(source, item, start_after=start_after))
    return compare(*stories)


def _scenario_like(items: list[GoldenTrace | Trace], connections: int | None) -> Scenario:
    """The scenario a golden file was recorded in (its connections and messages), else the default one."""
    recorded = next((item.scenario for item in items if isinstance(item, GoldenTrace)), {})
    numbers = {key: value for key, value in recorded.items() if type(value) is int}  # Scenario checks the range
    return Scenario(
        connections=connections or numbers.get("connections", DEFAULT_SCENARIO.connections),
        messages=numbers.get("messages", DEFAULT_SCENARIO.messages),
    )
