"""The seccomp-BPF prefilter stops only at the recorded calls and records the same trace."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from support.capability import missing
from support.programs import TEST_PROGRAMS
from support.runs import Run

from harness.model.events import SpawnEvent, SyscallEvent
from harness.model.scenario import Scenario
from harness.model.variants import find_variant
from harness.running.ports import free_port
from harness.running.run import run_server
from harness.running.tracer import Tracer, TraceResult
from harness.running.variants import variant_command


@pytest.fixture(autouse=True)
def seccomp_available(ptrace_permitted: None) -> None:
    """Skip (or, in CI, fail) where the prefilter cannot be used: no libseccomp, or a kernel before 5.3."""
    if not Tracer(["true"], seccomp=True).uses_seccomp:
        missing("the seccomp prefilter is unavailable here (needs libseccomp.so.2 and Linux 5.3)")


@pytest.mark.parametrize("program", TEST_PROGRAMS, ids="-".join)
def test_the_filter_records_the_same_story_with_fewer_stops(
    program: tuple[str, ...], traced: Callable[..., Run], program_argv: Callable[[tuple[str, ...]], list[str]]
) -> None:
    argv = program_argv(program)

    stepped = traced(argv)
    filtered = traced(argv, seccomp=True)

    assert filtered.trace.outline() == stepped.trace.outline()
    assert filtered.result.stops < stepped.result.stops
    assert filtered.stdout == stepped.stdout and filtered.stderr == stepped.stderr


def test_the_deterministic_schedule_works_through_the_filter(ptrace_permitted: None) -> None:
    variant = find_variant("fork_sigchld")
    outlines = []
    for seccomp in (False, True):
        port = free_port()
        result = run_server(
            variant_command(variant, port, 3), "echo", Scenario(connections=3), port=port, seccomp=seccomp
        )
        assert result.ok, result.server_output
        outlines.append(result.trace.outline())
    assert outlines[0] == outlines[1]
    assert outlines[1]["main"].count("accept4 -> ERESTARTSYS") == 2


def test_without_syscall_info_the_tracer_falls_back_to_stepping() -> None:
    with open(os.devnull, "w") as devnull:
        tracer = Tracer(
            ["sh", "-c", "exit 3"], seccomp=True, use_syscall_info=False, stdio=(None, devnull.fileno(), None)
        )
        result = tracer.run()
    assert not tracer.uses_seccomp
    assert result.exit_code == 3


def test_the_prefilter_is_the_default() -> None:
    assert Tracer(["true"]).uses_seccomp
    assert not Tracer(["true"], seccomp=False).uses_seccomp


def _stops(script: str) -> TraceResult:
    with open(os.devnull, "w") as devnull:
        return Tracer(["sh", "-c", script], syscalls=["clone"], stdio=(None, devnull.fileno(), None)).run()


def test_a_fork_returns_at_its_event_without_an_exit_stop() -> None:
    """Under the prefilter a fork's result comes from its PTRACE_EVENT_FORK stop: it has no exit stop.

    Each ``(exit N)`` of the shell is one fork the shell waits for.  Its stops:
    the clone's entry (the filter's), the fork event, the child's first
    SIGSTOP, and the SIGCHLD's delivery to the shell: four, where five would
    mean a clone exit stop; and the child's end, which ``waitpid`` reports
    too, but is no stop.  Two forks more, eight stops and two ends more; the
    shell's own start-up stops are the same in both runs.
    """
    one = _stops("(exit 1); exit 0")
    three = _stops("(exit 1); (exit 2); (exit 3); exit 0")

    assert (three.stops - one.stops, three.exits - one.exits) == (2 * 4, 2)
    forks = [event for event in three.trace if isinstance(event, SyscallEvent) and event.name == "clone"]
    children = [event.child_pid for event in three.trace if isinstance(event, SpawnEvent)]
    assert [fork.ret for fork in forks] == children and len(children) == 3


def _handled(signals: int, *, seccomp: bool) -> TraceResult:
    """A shell that sends itself SIGUSR1 ``signals`` times; its handler returns through rt_sigreturn each time."""
    script = "trap : USR1; " + "kill -USR1 $$; " * signals + "exit 0"
    with open(os.devnull, "w") as devnull:
        return Tracer(
            ["sh", "-c", script], syscalls=["rt_sigreturn"], seccomp=seccomp, stdio=(None, devnull.fileno(), None)
        ).run()


def test_a_handlers_return_has_no_exit_stop_and_returns_what_the_exit_stop_shows() -> None:
    """Under the prefilter rt_sigreturn's result is read from the signal frame at its entry.

    Each signal costs the delivery stop and rt_sigreturn's entry: two stops,
    where three would mean an exit stop.  The results are those the exit
    stops show when every call is stepped: the interrupted ``kill``'s 0.
    """
    one, three = _handled(1, seccomp=True), _handled(3, seccomp=True)
    stepped = _handled(3, seccomp=False)

    def results(run: TraceResult) -> list[int | None]:
        return [event.ret for event in run.trace if isinstance(event, SyscallEvent) and event.name == "rt_sigreturn"]

    assert three.stops - one.stops == 2 * 2
    assert results(three) == results(stepped) == [0, 0, 0]


def test_a_spawn_names_its_call_when_that_call_is_not_traced() -> None:
    """Under the filter an untraced fork has no entry stop: its name is read at the fork event, not the last call's."""
    with open(os.devnull, "w") as devnull:
        result = Tracer(
            ["sh", "-c", "(exit 1); exit 0"], syscalls=["close"], seccomp=True, stdio=(None, devnull.fileno(), None)
        ).run()

    spawn = next(event for event in result.trace if isinstance(event, SpawnEvent))
    assert spawn.via == "clone"  # the last traced call's name ("close"), before
