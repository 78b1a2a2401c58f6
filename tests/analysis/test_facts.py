"""End-state facts: each holds on a clean story and names the role, fd or pid at fault on a broken one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.stories import Story
from test_match import ACCEPT, HANDLER, calls, fork_sigchld

from harness.analysis.explain import explain
from harness.analysis.facts import (
    FACT_CHECKS,
    TraceIndex,
    Violation,
    closes_the_listening_socket,
    disposition_at,
    no_accepted_descriptor_left_open,
    no_zombie_left,
)
from harness.analysis.finding import render
from harness.analysis.report import render_report
from harness.model.events import Event, ExitEvent, SpawnEvent, SyscallEvent
from harness.model.expectations import FACTS
from harness.model.trace import Trace

Fact = Callable[[TraceIndex, str], list[Violation]]


def without(story: Story, drop: Callable[[Event], bool]) -> Trace:
    """The story's trace without the events ``drop`` picks (seq numbers keep their gaps)."""
    return Trace(tuple(event for event in story.events if not drop(event)))


def is_call(name: str, role: str | None = None, **args: object) -> Callable[[Event], bool]:
    def pick(event: Event) -> bool:
        return (
            isinstance(event, SyscallEvent)
            and event.name == name
            and (role is None or event.role == role)
            and all(event.args.get(key) == value for key, value in args.items())
        )

    return pick


def spawn_of(trace: Trace, child: str) -> SpawnEvent:
    return next(event for event in trace if isinstance(event, SpawnEvent) and event.child_role == child)


def exit_of(trace: Trace, role: str) -> ExitEvent:
    ended = trace.exit_of(role)
    assert ended is not None
    return ended


def test_every_fact_has_its_check() -> None:
    assert set(FACT_CHECKS) == set(FACTS)


@pytest.mark.parametrize("kind", ["eintr", "sa_restart", "no_handler"])
@pytest.mark.parametrize("role", ["main", "main.1", "main.2"])
@pytest.mark.parametrize("fact", list(FACT_CHECKS.values()), ids=list(FACT_CHECKS))
def test_every_fact_holds_on_a_clean_story(fact: Fact, role: str, kind: str) -> None:
    violations = fact(TraceIndex(fork_sigchld(kind).trace()), role)
    if fact is FACT_CHECKS["reaped before the next accept"] and kind != "eintr" and role == "main":
        # Not clean for this fact: with SA_RESTART CPython's handler runs only once accept4 returns the next
        # connection, and without a handler nobody reaps before shutdown: main.1 outlives the next accept.
        assert [v.message.split(" exited")[0] for v in violations] == [f"main.1 (pid {violations[0].events[0].pid})"]
        return
    assert violations == []


# -- no zombie left ---------------------------------------------------------------------


def test_a_child_nobody_waits_for_is_a_zombie_until_its_parent_exits() -> None:
    trace = without(fork_sigchld(), is_call("wait4"))
    violations = no_zombie_left(TraceIndex(trace), "main")
    main_exit = exit_of(trace, "main")
    assert [violation.message for violation in violations] == [
        f"main.{n} (pid {100 + n}) exited at #{exit_of(trace, f'main.{n}').seq} and was never reaped: "
        f"still a zombie when main exited at #{main_exit.seq}"
        for n in (1, 2)
    ]
    assert violations[0].role == "main"
    assert violations[0].events == (spawn_of(trace, "main.1"), exit_of(trace, "main.1"), main_exit)


def test_a_zombie_at_the_end_of_a_trace_whose_parent_still_runs() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.exit("main.1", 0)
    story.call("main", "accept4", 4, fd=3)
    trace = story.trace()
    [violation] = no_zombie_left(TraceIndex(trace), "main")
    assert violation.message == (
        f"main.1 (pid 101) exited at #{exit_of(trace, 'main.1').seq} and was never reaped: "
        "still a zombie at the end of the trace"
    )
    assert violation.events == (spawn_of(trace, "main.1"), exit_of(trace, "main.1"))


def test_only_the_unreaped_child_is_named() -> None:
    # The handler reaps main.1; nobody reaps main.2 after the listening socket is closed.
    trace = without(fork_sigchld(), is_call("wait4", options=[]))
    [violation] = no_zombie_left(TraceIndex(trace), "main")
    assert violation.message.startswith("main.2 (pid 102) exited at #")


def test_a_thread_of_the_parent_may_reap() -> None:
    story = Story()
    story.spawn("main", "main/t1", thread=True)
    story.spawn("main/t1", "main.1")
    story.exit("main.1", 0)
    story.call("main/t1", "wait4", 102, pid=-1, options=[])
    story.exit("main", 0)
    assert no_zombie_left(TraceIndex(story.trace()), "main") == []
    assert no_zombie_left(TraceIndex(story.trace()), "main/t1") == []


def test_waitid_reaps_by_its_siginfo() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.exit("main.1", 0)
    story.call("main", "waitid", 0, idtype="P_ALL", id=0, infop={"si_code": "CLD_EXITED", "si_pid": 101}, options=[])
    story.exit("main", 0)
    assert no_zombie_left(TraceIndex(story.trace()), "main") == []


def _sig_ign_story(*, handler: str = "SIG_IGN", flags: tuple[str, ...] = (), ret: int = 0, late: bool = False) -> Trace:
    """A server with SIGCHLD ignored: the kernel reaps, wait4 finds no child."""
    story = Story()
    act = {**HANDLER, "handler": handler, "flags": ["SA_RESTORER", *flags]}
    if not late:
        story.call("main", "rt_sigaction", ret, signal="SIGCHLD", act=act, oldact=None)
    story.call("main", "accept4", 4, **ACCEPT)
    story.spawn("main", "main.1")
    story.call("main", "close", 0, fd=4)
    story.exit("main.1", 0)
    if late:
        story.call("main", "rt_sigaction", ret, signal="SIGCHLD", act=act, oldact=None)
    story.call("main", "wait4", -10, pid=-1, options=[])
    story.exit("main", 0)
    return story.trace()


def test_sig_ign_lets_the_kernel_reap() -> None:
    assert no_zombie_left(TraceIndex(_sig_ign_story()), "main") == []


def test_sa_nocldwait_lets_the_kernel_reap() -> None:
    assert no_zombie_left(TraceIndex(_sig_ign_story(handler="0x5582232162e9", flags=("SA_NOCLDWAIT",))), "main") == []


@pytest.mark.parametrize(
    "trace",
    [
        pytest.param(_sig_ign_story(late=True), id="SIG_IGN set after the child exited"),
        pytest.param(_sig_ign_story(ret=-22), id="rt_sigaction failed with EINVAL"),
        pytest.param(_sig_ign_story(handler="SIG_DFL"), id="SIG_DFL"),
    ],
)
def test_only_a_sig_ign_in_force_when_the_child_exits_reaps_it(trace: Trace) -> None:
    [violation] = no_zombie_left(TraceIndex(trace), "main")
    assert violation.message.startswith("main.1 (pid 101) exited at #")


def test_an_orphan_is_skipped() -> None:
    # daemon_double_fork: main.1 forks main.1.1 and exits at once; main.1.1 outlives it.
    story = Story()
    story.spawn("main", "main.1")
    story.spawn("main.1", "main.1.1")
    story.exit("main.1", 0)
    story.call("main", "wait4", 101, pid=101, options=[])
    story.exit("main.1.1", 0)
    story.exit("main", 0)
    trace = story.trace()
    assert no_zombie_left(TraceIndex(trace), "main.1") == []
    assert no_zombie_left(TraceIndex(trace), "main") == []


def test_a_child_that_never_exits_is_no_zombie() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.exit("main", 0)
    assert no_zombie_left(TraceIndex(story.trace()), "main") == []


# -- no accepted descriptor left open ----------------------------------------------------------


def test_a_descriptor_still_open_at_the_next_accept_is_named() -> None:
    story = fork_sigchld()
    trace = without(story, is_call("close", "main", fd=4))
    first, interrupted, *_ = calls(trace, "main", "accept4")
    violations = no_accepted_descriptor_left_open(TraceIndex(trace), "main")
    assert violations[0] == Violation(
        "main",
        f"main accepted fd 4 at #{first.seq} and had not closed it when it entered accept4 again "
        f"at #{interrupted.enter_seq}",
        (first, interrupted),
    )


def test_each_leaked_descriptor_is_named_once() -> None:
    # fork_leaky: the parent never closes what it accepted
    story = Story()
    first = story.call("main", "accept4", 4, fd=3)
    story.spawn("main", "main.1")
    second = story.call("main", "accept4", 5, fd=3)
    story.spawn("main", "main.2")
    interrupted = story.call("main", "accept4", -512, fd=3)
    story.call("main", "accept4", -11, fd=3)  # EAGAIN: nothing accepted
    story.exit("main", 0)
    trace = story.trace()
    assert [violation.message for violation in no_accepted_descriptor_left_open(TraceIndex(trace), "main")] == [
        f"main accepted fd 4 at #{first.seq} and had not closed it when it entered accept4 again "
        f"at #{second.enter_seq}",
        f"main accepted fd 5 at #{second.seq} and had not closed it when it entered accept4 again "
        f"at #{interrupted.enter_seq}",
    ]


def test_a_descriptor_never_closed_before_the_exit_is_named() -> None:
    story = Story()
    story.call("main", "accept4", 4, fd=3)
    story.call("main", "close", 0, fd=4)
    last = story.call("main", "accept", 5, fd=3)
    story.call("main", "close", 0, fd=3)
    ended = story.exit("main", 0)
    [violation] = no_accepted_descriptor_left_open(TraceIndex(story.trace()), "main")
    assert violation.message == f"main accepted fd 5 at #{last.seq} and never closed it"
    assert violation.events == (last, ended)


def test_a_descriptor_closed_by_another_thread_of_the_process_counts() -> None:
    story = Story()
    story.spawn("main", "main/t1", thread=True)
    story.call("main", "accept4", 4, fd=3)
    story.call("main/t1", "close", 0, fd=4)
    story.call("main", "accept4", 5, fd=3)
    story.call("main/t1", "close", 0, fd=5)
    assert no_accepted_descriptor_left_open(TraceIndex(story.trace()), "main") == []


def test_a_close_by_the_child_does_not_close_the_parents_copy() -> None:
    story = Story()
    story.call("main", "accept4", 4, fd=3)
    story.spawn("main", "main.1")
    story.call("main.1", "close", 0, fd=4)
    accepted = story.call("main", "accept4", 5, fd=3)
    story.call("main", "close", 0, fd=5)
    [violation] = no_accepted_descriptor_left_open(TraceIndex(story.trace()), "main")
    assert violation.message.endswith(f"when it entered accept4 again at #{accepted.enter_seq}")
    assert no_accepted_descriptor_left_open(TraceIndex(story.trace()), "main.1") == []


# -- closes the listening socket --------------------------------------------------------------


def test_a_child_that_keeps_the_listening_socket_is_named() -> None:
    trace = without(fork_sigchld(), is_call("close", "main.2", fd=3))
    [violation] = closes_the_listening_socket(TraceIndex(trace), "main.2")
    ended = exit_of(trace, "main.2")
    assert violation == Violation(
        "main.2",
        f"main.2 never closed the listening socket fd 3 it inherited from main; it exited at #{ended.seq} "
        "still holding it",
        (ended,),
    )
    assert closes_the_listening_socket(TraceIndex(trace), "main.1") == []


def test_a_child_still_running_is_named_without_an_exit() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.spawn("main", "main.1")
    story.call("main.1", "close", 0, fd=4)
    [violation] = closes_the_listening_socket(TraceIndex(story.trace()), "main.1")
    assert violation.message == "main.1 never closed the listening socket fd 3 it inherited from main"
    assert violation.events == ()


def test_the_root_process_inherits_nothing() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.exit("main", 0)
    assert closes_the_listening_socket(TraceIndex(story.trace()), "main") == []
    assert closes_the_listening_socket(TraceIndex(story.trace()), "main/t1") == []


def test_a_listener_closed_before_the_fork_is_not_inherited() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.call("main", "close", 0, fd=3)
    story.spawn("main", "main.1")
    story.exit("main.1", 0)
    assert closes_the_listening_socket(TraceIndex(story.trace()), "main.1") == []


def test_a_failed_listen_makes_no_listener() -> None:
    story = Story()
    story.call("main", "listen", -98, fd=3, backlog=128)  # EADDRINUSE
    story.spawn("main", "main.1")
    story.exit("main.1", 0)
    assert closes_the_listening_socket(TraceIndex(story.trace()), "main.1") == []


def test_a_grandchild_inherits_through_its_parent() -> None:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=128)
    story.spawn("main", "main.1")
    story.call("main.1", "listen", 0, fd=5, backlog=16)
    story.spawn("main.1", "main.1.1")
    story.call("main.1", "close", 0, fd=3)  # after the fork: the grandchild still has it
    story.call("main.1", "close", 0, fd=5)
    story.exit("main.1.1", 0)
    messages = [violation.message for violation in closes_the_listening_socket(TraceIndex(story.trace()), "main.1.1")]
    assert [message.split(";")[0] for message in messages] == [
        "main.1.1 never closed the listening socket fd 3 it inherited from main",
        "main.1.1 never closed the listening socket fd 5 it inherited from main.1",
    ]


def test_a_thread_role_answers_for_its_process() -> None:
    trace = without(fork_sigchld(), is_call("close", "main.1", fd=3))
    [violation] = closes_the_listening_socket(TraceIndex(trace), "main.1/t1")
    assert violation.role == "main.1/t1"
    assert violation.message.startswith("main.1 never closed the listening socket fd 3 it inherited from main")


def test_a_fork_chain_1200_deep_is_walked_without_recursion() -> None:
    """Each process forks the next and exits; the deepest one inherits main's SIGCHLD handler."""
    story = Story()
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={"handler": "0x401000", "flags": [], "mask": []})
    role = "main"
    for _ in range(1200):
        child = f"{role}.1"
        story.spawn(role, child)
        role = child
    for _ in range(1200):
        story.exit(role)
        role = role.rsplit(".", 1)[0]
    trace = story.trace()
    deepest = "main" + ".1" * 1200
    found = disposition_at(TraceIndex(trace), deepest, "SIGCHLD", len(trace) + 1)
    assert (found.handler, found.inherited_from) == ("handler", "main" + ".1" * 1199)
    assert render(explain(trace))  # explain and the report walk the same tree
    assert render_report(trace, title="chain").startswith("<!DOCTYPE html>")
