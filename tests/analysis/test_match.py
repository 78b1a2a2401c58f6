"""Matching hand-built traces, modelled on real runs of the fork_sigchld lesson, against assertions."""

from __future__ import annotations

from typing import Any

import pytest
from support.stories import Story

from harness.analysis.failure_text import format_failure, format_mismatch
from harness.analysis.match import check_roles
from harness.analysis.match_context import MatchContext
from harness.analysis.match_sequence import find_events, match_sequence
from harness.analysis.match_step import try_step
from harness.analysis.mismatch import Mismatch
from harness.analysis.verdicts import check_assertion
from harness.model.events import Event, SyscallEvent
from harness.model.expectations import (
    MAIN,
    Assertion,
    CountCheck,
    FactCheck,
    Location,
    NeverCheck,
    Operator,
    RoleSelector,
    SequenceCheck,
)
from harness.model.steps import parse_step
from harness.model.trace import Trace

HANDLER: dict[str, Any] = {"handler": "0x5582232162e9", "mask": [], "restorer": "0x7f590337e050"}
ACCEPT: dict[str, Any] = {"fd": 3, "flags": ["SOCK_CLOEXEC"]}


def fork_sigchld(kind: str = "eintr", *, child_codes: tuple[int, int] = (0, 0)) -> Story:
    """Two connections to a fork-per-connection server whose first child exits while it blocks in accept4.

    ``kind`` is how the interrupted accept4 ends:

    * ``eintr``: a handler without SA_RESTART; rt_sigreturn gives EINTR, the
      handler reaps with wait4(-1, WNOHANG), CPython enters accept4 again;
    * ``sa_restart``: the handler has SA_RESTART; rt_sigreturn returns
      accept4's number (288) and the kernel enters accept4 again;
    * ``no_handler``: SIGCHLD at its default; accept4 is entered again at once.

    After the second connection the server closes its listening socket,
    reaps what is left with a blocking wait4 until ECHILD, and exits 0.
    """
    story = Story()
    if kind != "no_handler":
        flags = ["SA_RESTORER", "SA_RESTART"] if kind == "sa_restart" else ["SA_RESTORER"]
        story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={**HANDLER, "flags": flags}, oldact=None)
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.call("main", "accept4", 4, **ACCEPT)
    for number, code in enumerate(child_codes, start=1):
        child = f"main.{number}"
        story.spawn("main", child)
        story.call("main", "clone", story.pids[child], flags=["CLONE_CHILD_SETTID"], exit_signal="SIGCHLD")
        story.call("main", "close", 0, fd=4)
        story.call(child, "close", 0, fd=3)
        story.call(child, "close", 0, fd=4)
        story.call(child, "exit_group", None, status=code)
        story.exit(child, code)
        if number == len(child_codes):
            break
        pid = story.pids[child]
        story.call("main", "accept4", -512, **ACCEPT)
        story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=pid, si_uid=0, si_status=code)
        if kind == "eintr":
            story.call("main", "rt_sigreturn", -4)
            story.call("main", "wait4", pid, pid=-1, status={"exited": code}, options=["WNOHANG"])
            story.call("main", "wait4", -10, pid=-1, status=None, options=["WNOHANG"])
            story.call("main", "accept4", 4, **ACCEPT)
        elif kind == "sa_restart":
            story.call("main", "rt_sigreturn", 288)
            story.call("main", "accept4", 4, **ACCEPT)
            story.call("main", "wait4", pid, pid=-1, status={"exited": code}, options=["WNOHANG"])
            story.call("main", "wait4", -10, pid=-1, status=None, options=["WNOHANG"])
        else:
            story.call("main", "accept4", 4, **ACCEPT)
    story.call("main", "close", 0, fd=3)
    left = ["main.1", "main.2"] if kind == "no_handler" else ["main.2"]
    for child in left:
        story.call("main", "wait4", story.pids[child], pid=-1, status={"exited": 0}, options=[])
    story.call("main", "wait4", -10, pid=-1, status=None, options=[])
    story.call("main", "exit_group", None, status=0)
    story.exit("main", 0)
    return story


def syscall(event: Event) -> SyscallEvent:
    assert isinstance(event, SyscallEvent), event
    return event


def calls(trace: Trace, role: str, name: str) -> list[SyscallEvent]:
    return [event for event in trace.for_role(role) if isinstance(event, SyscallEvent) and event.name == name]


def sequence(*texts: str, adjacent: bool = False) -> SequenceCheck:
    return SequenceCheck(tuple(parse_step(text) for text in texts), adjacent)


def context(kind: str = "eintr", *, start: str | None = "listen($listen)", connections: int | None = 2) -> MatchContext:
    return MatchContext(
        fork_sigchld(kind).trace(),
        start_after=parse_step(start) if start else None,
        connections=connections,
    )


def holds(check: SequenceCheck | CountCheck | NeverCheck | FactCheck, ctx: MatchContext, role: str = "main") -> bool:
    return check_roles(check, RoleSelector.parse(role), ctx) == []


# -- the lesson, as the bundled expectation file states it ---------------------------------

LESSON = sequence(
    "accept4 -> $conn",
    "clone -> $child",
    "close($conn)",
    "accept4 -> ERESTARTSYS",
    "--- SIGCHLD {si_code=CLD_EXITED, si_pid=$child, si_status=0} ---",
    "rt_sigreturn -> EINTR",
    "wait4(-1, _, WNOHANG) -> $child",
    "wait4(-1, _, WNOHANG) -> ECHILD",
    "accept4 -> $conn",
)


def test_the_lesson_matches_the_fork_sigchld_story() -> None:
    ctx = context()
    assert check_assertion(Assertion("the lesson", MAIN, LESSON), ctx) == []
    assert ctx.bindings == {"listen": 3}
    assert ctx.start_event is calls(ctx.trace, "main", "listen")[0]


def test_the_lesson_of_sa_restart_matches_its_story() -> None:
    check = sequence(
        "clone -> $child",
        "accept4 -> ERESTARTSYS",
        "--- SIGCHLD {si_code=CLD_EXITED, si_pid=$child}",
        "rt_sigreturn",
        "accept4 -> $conn",
        "wait4(-1, _, WNOHANG) -> $child",
    )
    assert holds(check, context("sa_restart"))
    assert not holds(check, context("eintr"))


def test_a_sequence_returns_none_when_every_step_matches() -> None:
    ctx = context()
    assert match_sequence(ctx.events_of("main"), LESSON.steps, ctx, role="main") is None


# -- greedy matching and captures ------------------------------------------------------------


def _two_connections() -> tuple[Trace, list[SyscallEvent]]:
    story = Story()
    events = [
        story.call("main", "accept4", 4, fd=3),
        story.call("main", "accept4", 5, fd=3),
        story.call("main", "close", 0, fd=5),
        story.call("main", "close", 0, fd=4),
    ]
    return story.trace(), events


def test_a_capture_is_bound_by_the_first_match_and_compared_after() -> None:
    trace, (accept_4, _, _, close_4) = _two_connections()
    ctx = MatchContext(trace)
    steps = [parse_step(text) for text in ("accept4 -> $conn", "close($conn)", "exit_group")]
    mismatch = match_sequence(ctx.events_of("main"), steps, ctx, role="main")
    assert mismatch is not None
    # close($conn) skipped close(5): it matched exactly the descriptor accept4 returned first
    assert mismatch.matched == (("accept4 -> $conn", accept_4), ("close($conn)", close_4))
    assert mismatch.bindings == {"conn": 4}


def test_a_capture_is_never_rebound() -> None:
    story = Story()
    first = story.call("main", "accept4", 4, fd=3)
    story.call("main", "accept4", 5, fd=3)
    again = story.call("main", "accept4", 4, fd=3)
    ctx = MatchContext(story.trace())
    steps = [parse_step("accept4 -> $conn"), parse_step("accept4 -> $conn"), parse_step("exec")]
    mismatch = match_sequence(ctx.events_of("main"), steps, ctx)
    assert mismatch is not None
    assert [event for _, event in mismatch.matched] == [first, again]


def test_matching_is_greedy_and_does_not_go_back() -> None:
    # The first accept binds $conn=4, which is never closed; the later accept4 -> 5 that is closed is not tried.
    story = Story()
    story.call("main", "accept4", 4, fd=3)
    story.call("main", "accept4", 5, fd=3)
    close_5 = story.call("main", "close", 0, fd=5)
    ctx = MatchContext(story.trace())
    mismatch = match_sequence(ctx.events_of("main"), sequence("accept4 -> $conn", "close($conn)").steps, ctx)
    assert mismatch is not None
    assert mismatch.message == "step 2 of 2 was not matched after #2"
    assert [candidate.event for candidate in mismatch.candidates] == [close_5]
    assert mismatch.candidates[0].reason == "fd is 5, expected $conn ($conn is 4)"


def test_the_start_markers_captures_are_global() -> None:
    ctx = context()
    assert holds(sequence("close($listen)", "+++ exited 0 +++"), ctx, "every child")
    assert not holds(sequence("close($listen)", "close($listen)"), ctx, "main.1")


# -- adjacent ------------------------------------------------------------------------------


def test_adjacent_steps_match_consecutive_events_anywhere_in_the_role() -> None:
    ctx = context()
    assert holds(sequence("close(4)", "accept4 -> ERESTARTSYS", "--- SIGCHLD", adjacent=True), ctx)
    assert holds(sequence("spawn main.2", "clone -> child", "close(4)", adjacent=True), ctx)


def test_adjacent_fails_when_another_event_comes_between() -> None:
    ctx = context()
    loose = sequence("accept4 -> 4", "clone", "close(4)")
    tight = sequence("accept4 -> 4", "clone", "close(4)", adjacent=True)
    assert holds(loose, ctx)
    [mismatch] = check_roles(tight, MAIN, ctx)
    # the spawn event comes between accept4 and clone
    assert mismatch.message.startswith("step 2 of 3 was not matched after #")
    assert "steps must match consecutive events (adjacent: true)" in mismatch.notes
    assert [event.seq for _, event in mismatch.matched] == [calls(ctx.trace, "main", "accept4")[0].seq]


# -- what the program saw of an interrupted call --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "eintr", "erestartsys", "restarted"),
    [
        ("eintr", 1, 1, 0),
        ("sa_restart", 0, 1, 1),
        ("no_handler", 0, 1, 1),
    ],
)
def test_an_interrupted_accept_is_seen_as_the_program_saw_it(
    kind: str, eintr: int, erestartsys: int, restarted: int
) -> None:
    ctx = context(kind)
    main = ctx.events_of("main")
    interrupted = [event for event in calls(ctx.trace, "main", "accept4") if event.errno == "ERESTARTSYS"]
    found = {
        result: find_events(parse_step(f"accept4 -> {result}"), main, ctx)
        for result in ("EINTR", "ERESTARTSYS", "restarted")
    }
    assert found == {
        "EINTR": interrupted[:eintr],
        "ERESTARTSYS": interrupted[:erestartsys],
        "restarted": interrupted[:restarted],
    }


def test_only_the_rt_sigreturn_itself_returns_eintr() -> None:
    ctx = context()
    [sigreturn] = calls(ctx.trace, "main", "rt_sigreturn")
    assert find_events(parse_step("rt_sigreturn -> EINTR"), ctx.events_of("main"), ctx) == [sigreturn]
    # the accept4 calls that returned a descriptor are not "EINTR"
    found = find_events(parse_step("accept4 -> EINTR"), ctx.trace, ctx)
    assert [syscall(event).errno for event in found] == ["ERESTARTSYS"]


def test_the_evidence_is_the_interrupted_tasks_own() -> None:
    # A thread's accept4 is interrupted; the main thread's rt_sigreturn says nothing about it.
    story = Story()
    story.spawn("main", "main/t1", thread=True)
    interrupted = story.call("main/t1", "accept4", -512, fd=3)
    story.call("main", "rt_sigreturn", -4)
    ctx = MatchContext(story.trace())
    for result in ("EINTR", "restarted"):
        assert find_events(parse_step(f"accept4 -> {result}"), ctx.trace, ctx) == []
    assert find_events(parse_step("accept4 -> ERESTARTSYS"), ctx.trace, ctx) == [interrupted]


def test_a_call_interrupted_at_the_end_of_the_trace_is_neither_eintr_nor_restarted() -> None:
    story = Story()
    interrupted = story.call("main", "accept4", -512, fd=3)
    story.signal("main", "SIGTERM", si_code="SI_USER", si_pid=1, si_uid=0)
    story.exit("main", signal="SIGTERM")
    ctx = MatchContext(story.trace())
    assert find_events(parse_step("accept4 -> EINTR"), ctx.trace, ctx) == []
    assert find_events(parse_step("accept4 -> restarted"), ctx.trace, ctx) == []
    assert find_events(parse_step("accept4 -> ERESTARTSYS"), ctx.trace, ctx) == [interrupted]


def test_restart_syscall_counts_as_the_call_entered_again() -> None:
    story = Story()
    sleep = story.call("main", "nanosleep", -516)  # ERESTART_RESTARTBLOCK
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "restart_syscall", 0)
    ctx = MatchContext(story.trace())
    assert find_events(parse_step("nanosleep -> restarted"), ctx.trace, ctx) == [sleep]


def test_a_restarted_call_reads_as_such_in_a_failure() -> None:
    ctx = context("sa_restart")
    [mismatch] = check_roles(sequence("clone", "accept4 -> EINTR"), MAIN, ctx)
    interrupted = mismatch.candidates[0]
    assert syscall(interrupted.event).errno == "ERESTARTSYS"
    assert interrupted.reason == (
        "it returned ERESTARTSYS (the kernel restarted it: the program never saw an error), expected -> EINTR"
    )


# -- results and values ---------------------------------------------------------------


def test_child_is_the_pid_of_a_process_the_events_own_process_created() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.spawn("main", "main/t1", thread=True)
    story.spawn("main.1", "main.1.1")
    own = story.call("main", "wait4", 101, pid=-1)
    by_thread = story.call("main/t1", "wait4", 101, pid=-1)
    grandchild = story.call("main", "wait4", 103, pid=-1)
    thread = story.call("main", "wait4", 102, pid=-1)
    ctx = MatchContext(story.trace())
    step = parse_step("wait4 -> child")
    assert find_events(step, ctx.trace, ctx) == [own, by_thread]
    assert try_step(step, grandchild, {}, ctx) == "it returned 103, expected -> child; not a child's pid"
    assert isinstance(try_step(step, thread, {}, ctx), str)
    kill = story.call("main", "kill", 0, pid=101, signal="SIGTERM")
    assert try_step(parse_step("kill(child, SIGTERM)"), kill, {}, MatchContext(story.trace())) == {}


def test_a_spawn_binds_the_childs_pid() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.call("main", "wait4", 101, pid=101)
    ctx = MatchContext(story.trace())
    assert holds(sequence("spawn process $child", "wait4($child) -> $child"), ctx)
    assert not holds(sequence("spawn thread", "wait4"), ctx)


@pytest.mark.parametrize(
    ("step", "event", "outcome"),
    [
        ("rt_sigaction(SIGCHLD, act.flags=!SA_RESTART)", 0, {}),
        ("rt_sigaction(SIGCHLD, act.flags=SA_RESTART)", 0, "act.flags is ['SA_RESTORER'], expected SA_RESTART"),
        ("rt_sigaction(SIGCHLD, act.flags=SA_RESTORER|!SA_RESTART)", 0, {}),
        ("rt_sigaction(oldact.flags=SA_RESTART)", 0, "oldact is NULL, so it has no oldact.flags"),
        ("accept4(addr.port=5)", 2, "addr.port was not recorded"),
        ("accept4(3, _, _, SOCK_CLOEXEC) -> $conn", 2, {"conn": 4}),
        ("wait4(-1, _, 0) -> ECHILD", -3, {}),
        ("exit_group -> ?", -2, {}),
        ("exit_group -> 0", -2, "it never returned, expected -> 0"),
        ("+++ exited 0 +++", -1, {}),
        ("+++ killed SIGTERM +++", -1, "it exited with 0"),
        ("+++ exited 1 +++", -1, "it ended with 0, expected 1"),
        ("spawn main.1", 3, {}),
        ("spawn main.2", 3, "it created main.1"),
        ("spawn thread", 3, "it created a process"),
        ("--- SIGCHLD {si_status=1}", 11, "si_status is 0, expected 1"),
        ("--- SIGTERM", 11, "another event"),
        ("exec", 11, "another event"),
        ("close", 2, "another event"),
    ],
)
def test_one_step_against_one_event(step: str, event: int, outcome: object) -> None:
    trace = fork_sigchld().trace()
    assert try_step(parse_step(step), trace[event], {}, MatchContext(trace)) == outcome


def test_exec_and_killed_exits_match() -> None:
    story = Story()
    story.exec("main")
    story.exit("main", signal="SIGKILL")
    ctx = MatchContext(story.trace())
    assert holds(sequence("exec", "+++ killed SIGKILL +++"), ctx)
    assert holds(sequence("+++ killed +++"), ctx)
    assert not holds(sequence("+++ exited +++"), ctx)


# -- where matching starts ----------------------------------------------------------------------


def test_only_events_after_the_start_marker_are_matched_unless_whole_trace() -> None:
    ctx = context()
    handler = sequence("rt_sigaction(SIGCHLD) -> 0")
    [mismatch] = check_assertion(Assertion("handler", MAIN, handler), ctx)
    assert mismatch.message == "step 1 of 1 was not matched from the start"
    assert mismatch.candidates == ()
    assert mismatch.notes == (f"no event of main is like this step ({len(ctx.events_of('main'))} events looked at)",)
    assert check_assertion(Assertion("handler", MAIN, handler, whole_trace=True), ctx) == []
    assert ctx.events_of("main", whole_trace=True) == ctx.trace.for_role("main")


def test_without_a_marker_everything_is_matched() -> None:
    ctx = context(start=None)
    assert ctx.bindings == {}
    assert ctx.events_of("main") == ctx.trace.for_role("main")
    assert holds(sequence("rt_sigaction(SIGCHLD) -> 0", "listen(3)"), ctx)


def test_a_start_marker_that_never_matches_gives_one_mismatch_saying_so() -> None:
    ctx = context(start="bind")
    assert ctx.roles == []
    for check in (LESSON, FactCheck("no zombie left"), NeverCheck(parse_step("accept4 -> EINTR"))):
        assert check_assertion(Assertion("any", RoleSelector.parse("every process"), check), ctx) == [
            Mismatch("the start marker 'bind' matched no event, so nothing was matched after it")
        ]


def test_the_roles_are_those_with_events_after_the_marker() -> None:
    story = fork_sigchld()
    ctx = MatchContext(story.trace(), start_after=parse_step("+++ exited 0 +++"))  # main.1's exit
    assert ctx.roles == ["main", "main.2"]
    assert check_roles(sequence("close"), RoleSelector.parse("main.1"), ctx) == [
        Mismatch("no role matches 'main.1' (roles in the trace: main, main.2)")
    ]
    assert check_roles(sequence("close"), RoleSelector.parse("main.1"), ctx, whole_trace=True) == []


# -- quantifiers ---------------------------------------------------------------------------


def test_every_requires_each_selected_role() -> None:
    ctx = MatchContext(fork_sigchld(child_codes=(0, 1)).trace(), start_after=parse_step("listen($listen)"))
    check = sequence("close($listen)", "+++ exited 0 +++")
    [mismatch] = check_roles(check, RoleSelector.parse("every child"), ctx)
    assert mismatch.role == "main.2"
    assert mismatch.failed_step == "+++ exited 0 +++"
    assert mismatch.candidates[0].reason == "it ended with 1, expected 0"
    assert check_roles(check, RoleSelector.parse("any child"), ctx) == []


def test_every_with_no_role_selected_fails() -> None:
    ctx = context()
    for selector in ("every grandchild", "any thread", "main.7"):
        [mismatch] = check_roles(sequence("close"), RoleSelector.parse(selector), ctx)
        assert mismatch.message == f"no role matches {selector!r} (roles in the trace: main, main.1, main.2)"
        assert mismatch.kind == "run"


def test_any_reports_the_closest_role_when_none_satisfies_it() -> None:
    ctx = context()
    check = sequence("close($listen)", "close(4)", "exit_group -> 1")
    [mismatch] = check_roles(check, RoleSelector.parse("any process"), ctx)
    assert mismatch.role == "main.1"  # two steps matched, against main's one
    assert len(mismatch.matched) == 2
    assert mismatch.notes[0] == ("no role of 'any process' (main, main.1, main.2) satisfies it; the closest is main.1")


def test_a_role_pattern_selects_by_name() -> None:
    ctx = context()
    assert RoleSelector.parse("every main.*").select(ctx.roles) == ["main.1", "main.2"]
    assert holds(sequence("exit_group(0) -> ?"), ctx, "every main.*")


# -- count and never --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("==", "connections", True),
        ("==", 2, True),
        ("==", 3, False),
        (">=", 1, True),
        (">=", "connections", True),
        (">=", 3, False),
        ("<=", 2, True),
        ("<=", 1, False),
    ],
)
def test_a_count_compares_with_a_number_or_the_connections(
    operator: Operator, value: int | str, expected: bool
) -> None:
    check = CountCheck(parse_step("wait4 -> child"), operator, value)
    assert holds(check, context()) is expected


def test_a_failed_count_says_what_it_counted() -> None:
    ctx = context()
    check = CountCheck(parse_step("wait4 -> child"), "==", "connections")
    ctx.connections = 3
    [mismatch] = check_roles(check, MAIN, ctx)
    assert mismatch.kind == "count"
    assert mismatch.message == "count of 'wait4 -> child' in main: expected == 3 (connections), counted 2"
    reaps = [event for event in calls(ctx.trace, "main", "wait4") if event.errno is None]
    assert [event for _, event in mismatch.matched] == reaps
    assert {syscall(candidate.event).errno for candidate in mismatch.candidates} == {"ECHILD"}


def test_a_count_of_connections_needs_the_scenario() -> None:
    [mismatch] = check_roles(CountCheck(parse_step("accept4"), ">=", "connections"), MAIN, context(connections=None))
    assert mismatch.message == ("count of 'accept4' in main: the scenario's number of connections is not known here")


def test_count_restarted_and_never_eintr_tell_the_variants_apart() -> None:
    restarted = CountCheck(parse_step("accept4 -> restarted"), ">=", 1)
    never_eintr = NeverCheck(parse_step("accept4 -> EINTR"))
    assert holds(restarted, context("sa_restart")) and holds(never_eintr, context("sa_restart"))
    assert not holds(restarted, context("eintr"))
    [mismatch] = check_roles(never_eintr, MAIN, context("eintr"))
    assert mismatch.kind == "never"
    assert mismatch.message == "'accept4 -> EINTR' happened 1 time in main"
    assert [candidate.reason for candidate in mismatch.candidates] == [
        "matches: ERESTARTSYS to the tracer, EINTR to the program"
    ]


def test_never_shows_five_events_and_counts_the_rest() -> None:
    story = Story()
    for fd in range(4, 11):
        story.call("main", "close", 0, fd=fd)
    [mismatch] = check_roles(NeverCheck(parse_step("close")), MAIN, MatchContext(story.trace()))
    assert mismatch.message == "'close' happened 7 times in main"
    assert [syscall(candidate.event).args["fd"] for candidate in mismatch.candidates] == [4, 5, 6, 7, 8]
    assert mismatch.notes == ("and 2 more",)


def test_a_fact_failure_names_the_fact_and_its_evidence() -> None:
    story = fork_sigchld()
    trace = Trace(
        tuple(event for event in story.events if not (isinstance(event, SyscallEvent) and event.name == "wait4"))
    )
    [mismatch] = check_roles(FactCheck("no zombie left"), MAIN, MatchContext(trace))
    assert mismatch.kind == "fact"
    assert mismatch.message == "main: 2 violations of 'no zombie left'"
    assert mismatch.notes[0].startswith("the fact: every child that exited was reaped")
    assert mismatch.notes[1].startswith("main.1 (pid 101) exited at #")
    assert {candidate.reason for candidate in mismatch.candidates} == {"evidence"}


# -- the data of a failure, and its text ------------------------------------------------------


def _waits() -> tuple[Trace, list[SyscallEvent]]:
    """An accept, then wait4 calls each more or less like ``wait4(-1, _, WNOHANG) -> ECHILD``."""
    story = Story()
    events = [
        story.call("main", "accept4", 4, fd=3),
        story.call("main", "wait4", 101, pid=5, options=[]),  # like it in nothing
        story.call("main", "wait4", 101, pid=-1, options=[]),  # pid
        story.call("main", "wait4", 0, pid=-1, options=["WNOHANG"]),  # pid and options
        story.call("main", "wait4", -10, pid=-1, options=[]),  # pid and result
        story.call("main", "wait4", 0, pid=7, options=[]),  # like it in nothing
    ]
    return story.trace(), events


def test_a_mismatch_names_the_failed_step_what_matched_the_nearest_events_and_the_captures() -> None:
    trace, (accept, _, pid_only, pid_options, pid_result, _) = _waits()
    ctx = MatchContext(trace)
    check = SequenceCheck((parse_step("accept4 -> $conn"), parse_step("wait4(-1, _, WNOHANG) -> ECHILD")), lines=(7, 8))
    [mismatch] = check_roles(check, MAIN, ctx)
    assert mismatch.kind == "sequence"
    assert mismatch.role == "main"
    assert mismatch.message == f"step 2 of 2 was not matched after #{accept.seq}"
    assert (mismatch.failed_step, mismatch.failed_line) == ("wait4(-1, _, WNOHANG) -> ECHILD", 8)
    assert mismatch.matched == (("accept4 -> $conn", accept),)
    assert mismatch.bindings == {"conn": 4}
    # the three most alike (two patterns, then one), in the trace's order; the two alike in nothing are left out
    assert [candidate.event for candidate in mismatch.candidates] == [pid_only, pid_options, pid_result]
    assert [candidate.reason for candidate in mismatch.candidates] == [
        "options is [], expected WNOHANG",
        "it returned 0, expected -> ECHILD",
        "options is [], expected WNOHANG",
    ]
    assert not any(candidate.before for candidate in mismatch.candidates)


def test_the_closest_events_win_over_the_earliest() -> None:
    story = Story()
    story.call("main", "accept4", 4, fd=3)
    first = story.call("main", "wait4", 0, pid=5, options=[])
    second = story.call("main", "wait4", 0, pid=6, options=[])
    story.call("main", "wait4", 0, pid=7, options=[])
    best = story.call("main", "wait4", 0, pid=-1, options=["WNOHANG"])
    ctx = MatchContext(story.trace())
    mismatch = match_sequence(ctx.events_of("main"), sequence("wait4(-1, _, WNOHANG) -> ECHILD").steps, ctx)
    assert mismatch is not None
    # three are shown: the one alike in two patterns, then the earliest of those alike in none; in the trace's order
    assert [candidate.event for candidate in mismatch.candidates] == [first, second, best]


def test_an_earlier_argument_weighs_more_than_the_later_ones() -> None:
    story = Story()
    wrong_signal = [
        story.call("main", "rt_sigaction", 0, signal="SIGPIPE", act={**HANDLER, "flags": ["SA_RESTART"]})
        for _ in range(3)
    ]
    right_signal = story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={**HANDLER, "flags": []})
    ctx = MatchContext(story.trace())
    step = parse_step("rt_sigaction(SIGCHLD, act.flags=SA_RESTART)")
    mismatch = match_sequence(ctx.events_of("main"), [step], ctx)
    assert mismatch is not None
    # the SIGCHLD call, then the SIGPIPE calls nearest to where matching stopped
    assert [candidate.event for candidate in mismatch.candidates] == [*wrong_signal[:2], right_signal]


def test_among_equally_close_events_before_the_stop_the_latest_are_shown() -> None:
    story = Story()
    accepts = [story.call("main", "accept4", 4, fd=3) for _ in range(4)]
    close = story.call("main", "close", 0, fd=4)
    ctx = MatchContext(story.trace())
    mismatch = match_sequence(ctx.events_of("main"), sequence("close", "accept4(fd=7)").steps, ctx)
    assert mismatch is not None
    assert mismatch.message == f"step 2 of 2 was not matched after #{close.seq}"
    assert [candidate.event for candidate in mismatch.candidates] == accepts[1:]
    assert all(candidate.before and candidate.reason == "fd is 3, expected 7" for candidate in mismatch.candidates)


def test_when_nothing_after_is_alike_the_events_before_are_shown() -> None:
    story = Story()
    accept = story.call("main", "accept4", 4, fd=3)
    close = story.call("main", "close", 0, fd=4)
    ctx = MatchContext(story.trace())
    mismatch = match_sequence(ctx.events_of("main"), sequence("close($c)", "accept4 -> 4").steps, ctx)
    assert mismatch is not None
    assert mismatch.message == f"step 2 of 2 was not matched after #{close.seq}"
    assert [(candidate.event, candidate.reason, candidate.before) for candidate in mismatch.candidates] == [
        (accept, "too early", True)
    ]
    text = format_mismatch(mismatch)
    assert "  nearest events (all before the point where matching stopped):" in text


def test_the_failure_text_shows_the_assertion_the_failed_step_and_the_candidates() -> None:
    trace, (accept, _, pid_only, _, _, _) = _waits()
    check = SequenceCheck((parse_step("accept4 -> $conn"), parse_step("wait4(-1, _, WNOHANG) -> ECHILD")), lines=(7, 8))
    assertion = Assertion("the handler reaps until ECHILD", MAIN, check, Location("fork.expect.yaml", 5))
    text = format_failure(assertion, check_assertion(assertion, MatchContext(trace)))
    lines = text.splitlines()
    assert lines[0] == "fork.expect.yaml:5:1: 'the handler reaps until ECHILD' failed (main)"
    assert lines[1] == f"  step 2 of 2 was not matched after #{accept.seq}"
    assert lines[2].startswith(f"       1  accept4 -> $conn  #{accept.seq} [pid 100 main] accept4(")
    assert lines[3] == "    >  2  wait4(-1, _, WNOHANG) -> ECHILD  (line 8)"
    assert lines[4] == "    nearest events:"
    assert lines[5].startswith(f"        #{pid_only.seq} [pid 100 main] wait4(")
    assert lines[6] == "            -- options is [], expected WNOHANG"
    assert lines[-1] == "    captures: $conn=4"


def test_the_failure_text_shortens_a_long_match_unless_verbose() -> None:
    ctx = context()
    steps = [*LESSON.steps, parse_step("accept4 -> ERESTARTSYS")]  # there is only one interruption
    mismatch = match_sequence(ctx.events_of("main"), steps, ctx, role="main")
    assert mismatch is not None
    short = format_mismatch(mismatch)
    assert "  ... 6 earlier steps matched (-v shows them)" in short
    assert "  > 10  accept4 -> ERESTARTSYS" in short
    assert [line[:7] for line in short[2:5]] == ["     7 ", "     8 ", "     9 "]
    verbose = format_mismatch(mismatch, verbose=True)
    assert [line[:7] for line in verbose[1:10]] == [f"     {number} " for number in range(1, 10)]
    assert "captures: $listen=3, $conn=4, $child=101" in verbose[-1]
