"""Two runs of every bundled variant tell the same golden story, and no story holds a raw pid.

A property over every variant, in deterministic mode and with each
injection a bundled expectation file uses: the normalized stories of two
runs are equal, and no pid or tid of the run appears as a number in any
line (the ``rt_sigreturn`` that restores a ``wait4``'s pid, a ``kill``'s
target, a siginfo's sender, a waited pid).  In free mode, natural timing
decides whether a child's exit interrupts ``accept`` at all, so two runs may
rightly tell different stories; what must still hold there is that no story
holds a raw pid.
"""

from __future__ import annotations

import re

import pytest
from support.capability import missing
from support.programs import EXPECTATIONS

from harness.analysis.golden import golden_from_trace
from harness.model.events import SignalEvent, SpawnEvent
from harness.model.expectations import EXPECTATION_SUFFIX as SUFFIX
from harness.model.expectations import ServerSpec
from harness.model.injection import Injection
from harness.model.loader import load_expectations
from harness.model.scenario import Mode, Scenario
from harness.model.trace import Trace
from harness.model.variants import find_variant, list_variants
from harness.running.serving import run_spec
from harness.running.variants import NoCompiler, variant_command

pytestmark = pytest.mark.ptrace

#: (variant, injections) for each variant alone and for each bundled file that injects into its server.
CASES: list[tuple[str, tuple[Injection, ...]]] = [(name, ()) for name in sorted(list_variants())] + [
    (str(expectation.server), expectation.injections)
    for expectation in map(load_expectations, sorted(EXPECTATIONS.glob(f"*{SUFFIX}")))
    if expectation.injections
]


def _run(name: str, injections: tuple[Injection, ...], mode: Mode) -> Trace:
    variant = find_variant(name)
    try:
        variant_command(variant, 0, 2)  # a C variant is built here, or the machine says why it cannot be
    except NoCompiler as error:
        missing(str(error))
    server = ServerSpec(variant=name, protocol=variant.protocol)
    result = run_spec(server, Scenario(2, mode=mode), injections=injections)
    assert result.ok, f"{result.summary()}\n{result.clients.failures}\n{result.server_output}"
    return result.trace


def _pids(trace: Trace) -> set[int]:
    found = {event.pid for event in trace} | {event.tid for event in trace}
    found |= {event.child_tid for event in trace if isinstance(event, SpawnEvent)}
    found |= {
        e.siginfo["si_pid"] for e in trace if isinstance(e, SignalEvent) and isinstance(e.siginfo.get("si_pid"), int)
    }
    return {pid for pid in found if pid > 1}


def _raw_pids(trace: Trace, stories: dict[str, tuple[str, ...]]) -> list[str]:
    numbers = re.compile(r"\b(" + "|".join(str(pid) for pid in sorted(_pids(trace))) + r")\b")
    return [line for lines in stories.values() for line in lines if numbers.search(line)]


def _id(case: tuple[str, tuple[Injection, ...]]) -> str:
    name, injections = case
    return name + ("+" + "+".join(str(injection) for injection in injections) if injections else "")


@pytest.mark.parametrize("case", CASES, ids=[_id(case) for case in CASES])
def test_two_deterministic_runs_tell_the_same_story_without_a_raw_pid(
    case: tuple[str, tuple[Injection, ...]], ptrace_permitted: None
) -> None:
    name, injections = case
    first, second = (_run(name, injections, "deterministic") for _ in range(2))
    stories = dict(golden_from_trace(first).roles)
    assert _raw_pids(first, stories) == []
    assert stories == dict(golden_from_trace(second).roles)


@pytest.mark.parametrize("name", sorted(list_variants()))
def test_a_free_run_story_holds_no_raw_pid(name: str, ptrace_permitted: None) -> None:
    trace = _run(name, (), "free")
    assert _raw_pids(trace, dict(golden_from_trace(trace).roles)) == []
