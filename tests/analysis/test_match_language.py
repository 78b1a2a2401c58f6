"""The expectation language beyond one sequence: each/then/child, windows, alternatives, own start, amounts.

Hand-built traces of a fork-per-connection server (``forking``): each
connection is accepted, handed to a child by clone, and (unless leaky)
closed by the parent; each child closes the listening socket and the
connection, and exits.  Each construct is shown holding, failing, and
failing with a report that names the occurrence and the step.
"""

from __future__ import annotations

import pytest
from support.stories import Story

from harness.analysis.failure_text import format_failure
from harness.analysis.match import check_roles
from harness.analysis.match_context import MatchContext, windows
from harness.analysis.mismatch import Mismatch
from harness.analysis.verdicts import check_assertion
from harness.model import record
from harness.model.amounts import AmountError, parse_amount
from harness.model.events import ExecEvent, SyscallEvent
from harness.model.expectations import (
    MAIN,
    Assertion,
    Check,
    CountCheck,
    EachCheck,
    NeverCheck,
    RoleSelector,
    SequenceCheck,
    Window,
    spawned_capture,
)
from harness.model.steps import AnyStep, SimpleStep, any_of, parse_step
from harness.model.trace import Trace


def forking(
    connections: int = 3, *, leaky: frozenset[int] = frozenset(), child_keeps: frozenset[int] = frozenset()
) -> Story:
    """A fork-per-connection server; connection ``n`` (from 1) is left open by the parent if in ``leaky``.

    A leaky parent's descriptors grow (4, 5, 6), as fork_leaky's do; a child in
    ``child_keeps`` exits without closing its connection.
    """
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    fd = 4
    for number in range(1, connections + 1):
        child = f"main.{number}"
        story.call("main", "accept4", fd, fd=3, flags=["SOCK_CLOEXEC"])
        story.spawn("main", child)
        story.call("main", "clone", story.pids[child], flags=["CLONE_CHILD_SETTID"], exit_signal="SIGCHLD")
        story.call(child, "close", 0, fd=3)
        if number not in child_keeps:
            story.call(child, "close", 0, fd=fd)
        story.call(child, "exit_group", None, status=0)
        story.exit(child, 0)
        if number in leaky:
            fd += 1
        else:
            story.call("main", "close", 0, fd=fd)
    story.call("main", "exit_group", None, status=0)
    story.exit("main", 0)
    return story


def steps(*texts: str) -> tuple[SimpleStep, ...]:
    return tuple(parse_step(text) for text in texts)


def context(story: Story, *, connections: int = 3) -> MatchContext:
    return MatchContext(story.trace(), start_after=parse_step("listen($listen)"), connections=connections)


def check(check: Check, ctx: MatchContext, role: str = "main") -> list[Mismatch]:
    return check_roles(check, RoleSelector.parse(role), ctx)


def report(check: Check, ctx: MatchContext, role: str = "main") -> str:
    assertion = Assertion("promise", RoleSelector.parse(role), check)
    return format_failure(assertion, check_assertion(assertion, ctx))


# -- each + then --------------------------------------------------------------------

PER_CONNECTION = EachCheck(parse_step("accept4 -> $conn"), steps("clone -> $child", "close($conn)"))


def test_each_then_holds_for_every_connection() -> None:
    assert check(PER_CONNECTION, context(forking())) == []


def test_each_binds_its_captures_afresh_per_occurrence() -> None:
    # A leaky parent accepts 4, 5, 6: one sequence would bind $conn once; each binds it three times.
    story = forking(leaky=frozenset({1, 2, 3}))
    promise = EachCheck(parse_step("accept4 -> $conn"), steps("clone -> $child"))
    assert check(promise, context(story)) == []
    once = SequenceCheck(steps("accept4 -> $conn", "accept4 -> $conn"))
    assert check(once, context(story)) != []


def test_each_fails_for_the_occurrence_whose_then_step_did_not_follow() -> None:
    story = forking(leaky=frozenset({2}))
    ctx = context(story)
    accepts = [event for event in ctx.events_of("main") if getattr(event, "name", "") == "accept4"]
    clones = [event for event in ctx.events_of("main") if getattr(event, "name", "") == "clone"]
    [mismatch] = check(PER_CONNECTION, ctx)
    assert mismatch.kind == "each"
    assert mismatch.failed_step == "close($conn)"
    assert mismatch.message == (
        f"occurrence #{accepts[1].seq} ($conn=4) of 'accept4 -> $conn': "
        f"step 2 of 2 did not follow after #{clones[1].seq}, before the next occurrence #{accepts[2].seq}"
    )
    assert mismatch.bindings["conn"] == 4 and mismatch.bindings["child"] == story.pids["main.2"]


def test_each_names_every_failing_occurrence_in_its_report() -> None:
    ctx = context(forking(leaky=frozenset({1, 2, 3})))
    accepts = [event for event in ctx.events_of("main") if getattr(event, "name", "") == "accept4"]
    text = report(PER_CONNECTION, ctx)
    assert f"occurrence #{accepts[0].seq} ($conn=4) of 'accept4 -> $conn': step 2 of 2 did not follow" in text
    assert ">  2  close($conn)" in text
    assert "1  clone -> $child" in text
    assert f"3 of 3 occurrences failed; the others: #{accepts[1].seq} ($conn=5), #{accepts[2].seq} ($conn=6)" in text
    assert "before the role ended" in report(PER_CONNECTION, context(forking(leaky=frozenset({3}))))


def test_a_step_that_came_only_after_the_next_occurrence_is_shown_as_too_late() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    accepts = []
    for fd, child in ((4, "main.1"), (5, "main.2")):
        accepts.append(story.call("main", "accept4", fd, fd=3))
        story.spawn("main", child)
        story.call("main", "clone", story.pids[child])
    late = story.call("main", "close", 0, fd=4)
    story.call("main", "close", 0, fd=5)
    [mismatch] = check(PER_CONNECTION, context(story))
    assert [(candidate.event, candidate.reason) for candidate in mismatch.candidates] == [
        (late, f"it matches, but after the next occurrence #{accepts[1].seq}")
    ]
    assert mismatch.notes == ()  # one occurrence failed: the second closes its descriptor in its window


def test_each_with_no_occurrence_fails_rather_than_holding_vacuously() -> None:
    promise = EachCheck(parse_step("accept4 -> ERESTARTSYS"), steps("rt_sigreturn"))
    [mismatch] = check(promise, context(forking()))
    assert "no event of main matches 'accept4 -> ERESTARTSYS'" in mismatch.message


def test_the_start_markers_captures_stay_visible_in_each() -> None:
    promise = EachCheck(parse_step("accept4($listen) -> $conn"), steps("close($conn)"))
    assert check(promise, context(forking())) == []


# -- child: across roles ------------------------------------------------------------

IN_THE_CHILD = EachCheck(
    parse_step("accept4 -> $conn"),
    steps("clone -> $child"),
    steps("close($listen)", "close($conn)", "+++ exited 0 +++"),
)


def test_child_steps_hold_in_the_process_the_then_step_spawned() -> None:
    assert check(IN_THE_CHILD, context(forking())) == []


def test_child_steps_see_the_occurrences_captures_and_fail_in_the_right_child() -> None:
    story = forking(child_keeps=frozenset({2}))
    [mismatch] = check(IN_THE_CHILD, context(story))
    assert mismatch.role == "main.2"
    assert "in main.2 (the process $child names), step 2 of 3 did not follow" in mismatch.message
    assert mismatch.failed_step == "close($conn)"
    assert mismatch.bindings["conn"] == 4 and mismatch.bindings["child"] == story.pids["main.2"]


def test_when_parent_and_child_both_break_the_promise_the_report_names_both() -> None:
    story = forking(leaky=frozenset({1}), child_keeps=frozenset({1}))
    assert [mismatch.role for mismatch in check(IN_THE_CHILD, context(story))] == ["main.1"]
    promise = EachCheck(IN_THE_CHILD.each, (*IN_THE_CHILD.then, parse_step("close($conn)")), IN_THE_CHILD.child)
    [both] = check(promise, context(story))
    assert both.role == "main" and both.failed_step == "close($conn)"
    assert "and in main.1 (the process $child names), step 2 of 3 did not follow after #" in both.notes[-1]
    assert both.notes[-1].endswith(": close($conn)")


def test_in_names_the_process_of_any_capture() -> None:
    # The arbiter's view of a worker: for each worker it spawns, the worker serves, then is reaped.
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    for number in (1, 2):
        worker = f"main.{number}"
        story.spawn("main", worker)
        story.call("main", "clone", story.pids[worker])
        story.call(worker, "accept4", 4, fd=3)
        story.call(worker, "close", 0, fd=4)
        story.exit(worker, 0)
        story.call("main", "wait4", story.pids[worker], pid=-1, status={"exited": 0}, options=[])
    promise = EachCheck(
        parse_step("clone -> $worker"), steps("wait4 -> $worker"), steps("accept4 -> $conn", "close($conn)"), "worker"
    )
    assert check(promise, context(story)) == []
    assert spawned_capture(steps("clone -> $worker", "spawn process $other")) == "other"
    assert spawned_capture(steps("accept4 -> $conn", "spawn thread $t")) is None


def test_a_capture_that_names_no_process_is_said_so() -> None:
    promise = EachCheck(parse_step("accept4 -> $conn"), steps("clone"), steps("+++ exited 0"), "conn")
    [mismatch] = check(promise, context(forking()))
    assert "$conn is 4, which names no traced process" in mismatch.message


# -- windows ------------------------------------------------------------------------


def test_never_within_a_window_ignores_what_lies_outside_it() -> None:
    ctx = context(forking())
    # Between a clone and the parent's close of the connection there is no accept4.
    inside = NeverCheck(parse_step("accept4"), Window(parse_step("clone"), parse_step("close")))
    assert check(inside, ctx) == []
    everywhere = NeverCheck(parse_step("accept4"))
    assert check(everywhere, ctx) != []


def test_a_window_repeats_and_its_after_binds_captures() -> None:
    story = forking(leaky=frozenset({2}))
    ctx = context(story)
    window = Window(parse_step("accept4 -> $conn"), parse_step("close($conn)"))
    # The spawn and the clone; then the leaky connection's window, open to the end (4 is never closed).
    assert [len(stretch) for stretch, _ in windows(ctx.events_of("main"), window, ctx)] == [2, 8]
    # In the leaky connection's window, the next accept4 comes before its close.
    [mismatch] = check(NeverCheck(parse_step("accept4"), window), ctx)
    assert mismatch.message == "'accept4' happened 1 time in main (after 'accept4 -> $conn' and before 'close($conn)')"


def test_a_window_open_at_one_end() -> None:
    ctx = context(forking())
    assert check(CountCheck(parse_step("close"), "==", 1, Window(before=parse_step("accept4 -> 5"))), ctx) != []
    assert check(CountCheck(parse_step("close"), "==", 0, Window(before=parse_step("close"))), ctx) == []
    assert check(CountCheck(parse_step("accept4"), "==", 2, Window(after=parse_step("close(4)"))), ctx) == []
    [mismatch] = check(CountCheck(parse_step("accept4"), "==", 3, Window(after=parse_step("close(4)"))), ctx)
    assert mismatch.message == "count of 'accept4' in main (after 'close(4)'): expected == 3, counted 2"


def test_a_window_whose_after_never_matches_counts_nothing() -> None:
    ctx = context(forking())
    assert check(NeverCheck(parse_step("accept4"), Window(after=parse_step("accept4 -> 9"))), ctx) == []


# -- alternatives --------------------------------------------------------------------


def test_any_of_matches_either_step_and_explains_both_when_neither() -> None:
    story = forking(2)
    story.spawn("main", "main.3")
    story.exit("main.3", signal="SIGTERM")
    ctx = context(story)
    ended = any_of(steps("+++ exited 0 +++", "+++ killed SIGTERM +++"))
    assert isinstance(ended, AnyStep)
    assert ended.text == "any_of: [+++ exited 0 +++, +++ killed SIGTERM +++]"
    assert check(SequenceCheck((ended,)), ctx, role="every child") == []
    killed_by_kill = any_of(steps("+++ exited 1 +++", "+++ killed SIGKILL +++"))
    mismatches = check(SequenceCheck((killed_by_kill,)), ctx, role="every child")
    assert [mismatch.role for mismatch in mismatches] == ["main.1", "main.2", "main.3"]
    text = report(SequenceCheck((killed_by_kill,)), ctx, role="main.3")
    assert "+++ exited 1 +++: it was killed by SIGTERM; +++ killed SIGKILL +++: it ended with SIGTERM" in text


# -- an assertion's own start, and amounts --------------------------------------------


def test_an_assertion_can_start_after_its_own_marker_with_the_files_captures_visible() -> None:
    ctx = context(forking(leaky=frozenset({1, 2, 3})))
    own = Assertion("after the second connection", MAIN, CountCheck(parse_step("accept4"), "==", 1))
    assert check_assertion(own, ctx) != []  # three accepts after the file's marker
    never = Assertion(own.name, MAIN, own.check, start_after=parse_step("accept4 -> 9"))
    assert "the start marker 'accept4 -> 9' matched no event" in check_assertion(never, ctx)[0].message
    second = Assertion(own.name, MAIN, own.check, start_after=parse_step("accept4($listen) -> 5"))
    assert check_assertion(second, ctx) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("connections", 3), ("connections + 2", 5), ("2 * connections", 6), ("2 * (connections - 1) + 1", 5), (7, 7)],
)
def test_an_amount_is_a_small_expression_of_the_connections(text: str | int, value: int) -> None:
    assert parse_amount(text).value(3) == value
    ctx = context(forking(value) if value <= 6 else forking(3), connections=3)
    if value <= 6:
        assert check(CountCheck(parse_step("accept4"), "==", text), ctx) == []


def test_a_failed_count_with_an_expression_shows_the_number_it_stood_for() -> None:
    [mismatch] = check(CountCheck(parse_step("clone"), "==", "connections + 2"), context(forking()))
    assert mismatch.message == "count of 'clone' in main: expected == 5 (connections + 2), counted 3"


@pytest.mark.parametrize(
    ("text", "offset", "phrase"),
    [
        ("connections +", 13, "expected a number or connections at the end"),
        ("conections + 2", 0, "unknown name 'conections': the only name an amount may use is 'connections'"),
        ("2 ** connections", 3, "expected a number or connections, found '*'"),
        ("__import__", 0, "unknown name '__import__'"),
        ("connections; import os", 11, "unexpected character ';'"),
        ("2 / 1", 2, "unexpected character '/'"),
        ("(2 + 1", 6, "expected ')' at the end"),
        ("2 3", 2, "expected +, - or * between parts, found '3'"),
        ("", 0, "an empty amount"),
    ],
)
def test_an_amount_is_parsed_not_evaluated_and_a_mistake_has_its_column(text: str, offset: int, phrase: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.offset == offset
    assert phrase in caught.value.message


# -- the waiting calls, decoded --------------------------------------------------------


def _waiting() -> MatchContext:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.call("main", "poll", 1, fds=[{"fd": 5, "events": ["POLLIN"]}, {"fd": 3, "events": ["POLLIN"]}], nfds=2)
    story.call("main", "select", 1, nfds=6, readfds=[3, 5], writefds=None, exceptfds=None, timeout=None)
    story.call("main", "epoll_wait", 1, epfd=7, events=[{"events": ["EPOLLIN"], "data": 3}], maxevents=8, timeout=-1)
    story.call("main", "futex", -110, uaddr="0x7f00", op=["FUTEX_WAIT_PRIVATE"], val=2)
    return context(story)


@pytest.mark.parametrize(
    "text",
    [
        "poll(fds.fd=$listen) -> 1",
        "poll(fds.events=POLLIN)",
        "poll -> 1",
        "select(readfds=$listen)",
        "select(readfds=5)",
        "epoll_wait(events.data=$listen, events.events=EPOLLIN) -> 1",
        "futex(op=FUTEX_WAIT_PRIVATE) -> ETIMEDOUT",
    ],
)
def test_a_step_names_the_descriptors_a_waiting_call_watches_and_its_result(text: str) -> None:
    assert check(SequenceCheck(steps(text)), _waiting()) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("poll(fds.fd=4)", "fds.fd is [5, 3], expected one of them to be 4"),
        ("select(readfds=4)", "readfds is [3, 5], expected one of them to be 4"),
        ("poll -> 0", "it returned 1, expected -> 0"),
        ("futex(op=FUTEX_WAKE_PRIVATE)", "op is ['FUTEX_WAIT_PRIVATE'], expected FUTEX_WAKE_PRIVATE"),
    ],
)
def test_a_waiting_call_that_watches_something_else_says_what_it_watched(text: str, reason: str) -> None:
    [mismatch] = check(SequenceCheck(steps(text)), _waiting())
    assert [candidate.reason for candidate in mismatch.candidates] == [reason]


def test_a_capture_binds_the_descriptor_of_the_element_that_matched() -> None:
    promise = SequenceCheck(steps("poll(fds.fd=$watched, fds.events=POLLIN)", "select(readfds=$watched)"))
    assert check(promise, _waiting()) == []
    promise = SequenceCheck(steps("epoll_wait(events.data=$ready)", "close($ready)"))
    [mismatch] = check(promise, _waiting())
    assert mismatch.bindings["ready"] == 3


# -- windows in time -----------------------------------------------------------------------------------------


def timed(story: Story, step: float) -> MatchContext:
    """The story as if each seq took ``step`` seconds (a call: from its entry to its exit)."""
    events = []
    for event in story.trace():
        values: dict[str, object] = {"time": event.seq * step}
        if isinstance(event, SyscallEvent):
            values["duration"] = (event.seq - event.enter_seq) * step
        events.append(record.replace(event, **values))
    return MatchContext(Trace(tuple(events)), start_after=parse_step("listen($listen)"), connections=3)


def test_a_window_in_time_counts_only_what_happened_soon_enough_after_each_after() -> None:
    ctx = timed(forking(), step=0.010)  # main spawns and clones within 30 ms of each accept4, closes 80 ms later
    after_accept = Window(after=parse_step("accept4 -> $conn"), within=0.035)
    stretches = windows(ctx.events_of("main"), after_accept, ctx)
    events = ctx.events_of("main")
    for stretch, _ in stretches:
        opened = events[stretch.start - 1].time or 0.0
        assert all((events[index].time or 0.0) - opened <= 0.035 for index in stretch)
    assert [[events[i].type for i in stretch] for stretch, _ in stretches] == [["spawn", "syscall"]] * 3
    assert check(CountCheck(parse_step("clone"), "==", "connections", after_accept), ctx) == []
    assert check(NeverCheck(parse_step("close($conn)"), after_accept), ctx) == []  # the parent closes later
    slower = Window(after=parse_step("accept4 -> $conn"), within=0.5)
    [mismatch] = check(NeverCheck(parse_step("close($conn)"), slower), ctx)
    # One window holds all three connections; the later two closes of fd 4 are other files' (the number was
    # freed by the first and handed out again): $conn is the first connection's only.
    assert mismatch.message == ("'close($conn)' happened 1 time in main (within 500 ms after 'accept4 -> $conn')")


def test_a_window_in_time_on_a_trace_without_times_fails_saying_why() -> None:
    ctx = context(forking())
    [mismatch] = check(NeverCheck(parse_step("close"), Window(after=parse_step("accept4"), within=1.0)), ctx)
    assert "this trace holds no times" in mismatch.message and "within 1 s after 'accept4'" in mismatch.message


# -- captures of descriptors follow the open file ------------------------------------


def _exec_then_close_3() -> Story:
    """A child that execs (its listener at fd 3 close-on-exec), then the new program's own close(3)."""
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.spawn("main", "main.1")
    story.events.append(
        ExecEvent(
            seq=story.seq + 1,
            pid=story.pids["main.1"],
            tid=story.tids["main.1"],
            role="main.1",
            filename="/bin/cat",
            fds=(0, 1, 2),
        )
    )
    story.seq += 1
    story.call("main.1", "close", 0, fd=3)  # the dynamic loader's file, opened by an untraced openat
    return story


def test_a_captured_descriptor_does_not_match_its_number_once_an_exec_freed_it() -> None:
    ctx = context(_exec_then_close_3())
    [mismatch] = check(SequenceCheck(steps("close($listen)")), ctx, role="main.1")  # matched fd 3 before

    [candidate] = mismatch.candidates
    assert candidate.reason.endswith(
        "($listen is main's fd 3 of #2, which its execve at #4 freed: this fd 3 is another file)"
    )


def test_a_descriptor_number_handed_out_again_names_the_new_file_from_then_on() -> None:
    story = forking(connections=2)  # accept4 returns 4 twice: the second time it is another connection
    ctx = context(story)
    again = SequenceCheck(steps("accept4 -> $conn", "close($conn)", "accept4 -> $conn", "close($conn)"))
    assert check(again, ctx) == []
    stale = SequenceCheck(steps("accept4 -> $conn", "close($conn)", "accept4", "close($conn)"))
    [mismatch] = check(stale, ctx)  # the first connection's fd 4 was freed by its close: not this one
    assert mismatch.failed_step == "close($conn)"
