"""The deterministic schedule's decisions, on hand-built entries and events."""

from __future__ import annotations

import os

from harness.model.events import ExitEvent, SpawnEvent, SyscallEntry, SyscallEvent
from harness.running.schedule import DeterministicSchedule

SERVER = os.getpid()  # a live pid with no SIGCHLD pending: this test process


def _entry(role: str, name: str, tid: int, **args: object) -> SyscallEntry:
    return SyscallEntry(seq=1, pid=tid, tid=tid, role=role, name=name, args=args)


def _returned(schedule: DeterministicSchedule, role: str, name: str, tid: int) -> None:
    schedule.left(_entry(role, name, tid))


class Releases:
    def __init__(self) -> None:
        self.released: list[int] = []

    def __call__(self, tid: int) -> None:
        self.released.append(tid)


def _schedule() -> tuple[DeterministicSchedule, Releases]:
    schedule = DeterministicSchedule()
    releases = Releases()
    schedule.release_task = releases
    return schedule, releases


def _turns(schedule: DeterministicSchedule) -> int:
    count = 0
    while schedule._turns.acquire(blocking=False):
        count += 1
    return count


def test_the_first_client_goes_when_the_server_first_waits_in_accept() -> None:
    schedule, _ = _schedule()
    assert _turns(schedule) == 0
    assert schedule.hold(_entry("main", "accept4", SERVER)) is False
    assert _turns(schedule) == 1


def test_a_child_exit_is_held_until_the_server_waits_again() -> None:
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)  # a connection came: the server works
    assert schedule.hold(_entry("main.1", "exit_group", 101)) is True
    assert releases.released == []
    schedule.hold(_entry("main", "close", SERVER))  # not a wait: nothing happens
    assert releases.released == []
    schedule.hold(_entry("main", "accept4", SERVER))
    assert releases.released == [101]


def test_after_an_interrupting_exit_the_next_client_waits_for_the_servers_next_wait() -> None:
    schedule, _ = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _turns(schedule)
    assert schedule.hold(_entry("main.1", "exit_group", 101)) is False  # the server already waits
    _returned(schedule, "main", "accept4", SERVER)
    schedule.on_event(ExitEvent(seq=3, pid=101, tid=101, role="main.1", code=0))
    assert _turns(schedule) == 0
    schedule.hold(_entry("main", "wait4", SERVER, options=["WNOHANG"]))  # the handler reaps: not a wait
    assert _turns(schedule) == 0
    schedule.hold(_entry("main", "accept4", SERVER))
    assert _turns(schedule) == 1


def test_an_exit_that_does_not_disturb_the_server_lets_the_next_client_go_at_once() -> None:
    schedule, _ = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _turns(schedule)
    schedule.hold(_entry("main.1", "exit_group", 101))
    schedule.on_event(ExitEvent(seq=3, pid=101, tid=101, role="main.1", code=0))  # SIG_IGN: nothing pending
    assert _turns(schedule) == 1


def test_threads_and_grandchildren_are_not_held() -> None:
    schedule, _ = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)
    assert schedule.hold(_entry("main.1/t1", "exit_group", 102)) is False
    assert schedule.hold(_entry("main.1.1", "exit_group", 103)) is False


def _spawned(schedule: DeterministicSchedule, parent: str, child: str, pid: int) -> None:
    schedule.on_event(
        SpawnEvent(
            seq=1, pid=1, tid=1, role=parent, child_pid=pid, child_tid=pid, child_role=child, via="clone", thread=False
        )
    )


def test_a_connections_exit_waits_for_its_parent_to_wait() -> None:
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))  # main is the server
    _returned(schedule, "main", "accept4", SERVER)
    _spawned(schedule, "main", "main.1", 50)
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is True
    schedule.hold(_entry("main", "wait4", SERVER, options=["WNOHANG"]))  # polling is not waiting
    assert releases.released == []
    schedule.hold(_entry("main", "wait4", SERVER, options=[]))
    assert releases.released == [50]


def test_a_start_up_helpers_exit_is_never_held() -> None:
    """A launcher's $(...) helper: its parent may be reading its output, so holding its exit would hang the run."""
    schedule, releases = _schedule()
    _spawned(schedule, "main", "main.1", 50)
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is False  # no server yet
    schedule.on_event(ExitEvent(seq=3, pid=50, tid=50, role="main.1", code=0))
    _spawned(schedule, "main", "main.2", 51)
    _spawned(schedule, "main.2", "main.2.1", 52)
    schedule.hold(_entry("main.2.1", "accept4", 52))  # the daemon serves
    assert schedule.hold(_entry("main.2", "exit_group", 51)) is False  # its parent is no connection of it
    assert releases.released == []


def test_an_orphans_exit_is_not_held() -> None:
    schedule, _ = _schedule()
    _spawned(schedule, "main", "main.1", 50)
    _spawned(schedule, "main.1", "main.1.1", 51)
    schedule.on_event(ExitEvent(seq=3, pid=50, tid=50, role="main.1", code=0))
    assert schedule.hold(_entry("main.1.1", "exit_group", 51)) is False


def test_the_server_is_whoever_accepts_first() -> None:
    schedule, releases = _schedule()
    _spawned(schedule, "main.1", "main.1.1", SERVER)
    schedule.hold(_entry("main.1.1", "accept4", SERVER))
    assert _turns(schedule) == 1
    _returned(schedule, "main.1.1", "accept4", SERVER)
    _spawned(schedule, "main.1.1", "main.1.1.1", 104)
    assert schedule.hold(_entry("main.1.1.1", "exit_group", 104)) is True
    schedule.hold(_entry("main.1.1", "wait4", SERVER, options=[]))  # a blocking wait counts
    assert releases.released == [104]


def test_held_children_of_one_parent_go_one_at_a_time() -> None:
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)
    for child, pid in (("main.1", 101), ("main.2", 102)):
        _spawned(schedule, "main", child, pid)
        assert schedule.hold(_entry(child, "exit_group", pid)) is True
    schedule.hold(_entry("main", "wait4", SERVER, options=[]))
    assert releases.released == [101]
    schedule.on_event(ExitEvent(seq=9, pid=101, tid=101, role="main.1", code=0))
    assert releases.released == [101, 102]


def test_a_child_exit_waits_for_the_childs_other_threads() -> None:
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    schedule.on_event(
        SpawnEvent(
            seq=5,
            pid=101,
            tid=101,
            role="main.1",
            child_pid=101,
            child_tid=102,
            child_role="main.1/t1",
            via="clone3",
            thread=True,
        )
    )
    assert schedule.hold(_entry("main.1", "exit_group", 101)) is True  # the server waits, but t1 still runs
    assert releases.released == []
    schedule.on_event(ExitEvent(seq=6, pid=101, tid=102, role="main.1/t1", code=0))
    assert releases.released == [101]


def test_a_parent_that_exits_lets_its_held_children_go_first() -> None:
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)
    _spawned(schedule, "main", "main.1", 50)
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is True
    assert schedule.hold(_entry("main", "exit_group", SERVER)) is True  # after its child, on every run
    assert releases.released == [50]
    schedule.on_event(ExitEvent(seq=9, pid=50, tid=50, role="main.1", code=0))
    assert releases.released == [50, SERVER]


def test_a_parent_with_no_child_at_its_exit_exits_at_once() -> None:
    schedule, releases = _schedule()
    _spawned(schedule, "main", "main.1", 50)
    assert schedule.hold(_entry("main", "exit_group", SERVER)) is False  # main.1 still works: it is orphaned
    assert releases.released == []


def _accepted(schedule: DeterministicSchedule, role: str, pid: int) -> None:
    schedule.on_event(
        SyscallEvent(seq=5, pid=pid, tid=pid, role=role, name="accept4", args={"fd": 3}, ret=4, errno=None, enter_seq=4)
    )


def test_a_connection_accepted_by_another_process_makes_the_schedule_step_aside() -> None:
    schedule, _ = _schedule()
    schedule.hold(_entry("main.1", "accept4", 50))  # the first worker waits: it is taken for the server
    _spawned(schedule, "main", "main.2", 51)
    assert _turns(schedule) == 1
    _accepted(schedule, "main.2", 51)  # a sibling worker took the connection: a pre-fork server
    assert schedule.stepped_aside == "a connection was accepted by main.2, not by main.1 (a pre-fork server)"
    assert _turns(schedule) == 1 << 16  # every client may come: they follow each other as they finish
    assert schedule.hold(_entry("main.2.1", "exit_group", 60)) is False  # nothing is held any more


def test_a_server_that_accepts_again_without_forking_makes_the_schedule_step_aside_and_frees_its_holds() -> None:
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)
    _accepted(schedule, "main", SERVER)
    _spawned(schedule, "main", "main.1", 50)
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is True
    _accepted(schedule, "main", SERVER)  # the next connection, served without a fork (in a thread, say)
    assert schedule.hold(_entry("main", "accept4", SERVER)) is False
    assert schedule.stepped_aside == "main waits for its next connection, having served the last one without forking"
    assert releases.released == [50]


def test_a_servers_exit_waits_for_its_children_still_at_work() -> None:
    """Whether the last child ends a zombie (its parent gone first) or reaped must not depend on which is quicker."""
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)
    _spawned(schedule, "main", "main.1", 50)
    assert schedule.hold(_entry("main", "exit_group", SERVER)) is True  # main.1 still serves
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is False  # the child goes first, now
    assert releases.released == []
    schedule.on_event(ExitEvent(seq=9, pid=50, tid=50, role="main.1", code=0))
    assert releases.released == [SERVER]


def test_the_servers_own_exit_waits_for_its_parent_the_daemons_middle_process() -> None:
    schedule, releases = _schedule()
    _spawned(schedule, "main", "main.1", 50)
    _spawned(schedule, "main.1", "main.1.1", 51)
    schedule.hold(_entry("main.1.1", "accept4", 51))  # the daemon serves
    assert schedule.hold(_entry("main.1.1", "exit_group", 51)) is True  # its parent, main.1, is still at work
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is False  # no connection's: never held
    assert releases.released == []
    schedule.on_event(ExitEvent(seq=9, pid=50, tid=50, role="main.1", code=0))
    assert releases.released == [51]  # the daemon goes once its parent is gone: an orphan on every run


def test_an_exit_held_for_its_parent_still_waits_for_its_own_children_once_the_parent_waits() -> None:
    """Ncat --exec's shape when the server is slow to reach accept: both conditions hold, whichever comes last."""
    schedule, releases = _schedule()
    schedule.hold(_entry("main", "accept4", SERVER))
    _returned(schedule, "main", "accept4", SERVER)
    _spawned(schedule, "main", "main.1", 50)
    _spawned(schedule, "main.1", "main.1.1", 51)  # its helper, still at work
    assert schedule.hold(_entry("main.1", "exit_group", 50)) is True  # main is not waiting yet
    schedule.hold(_entry("main", "accept4", SERVER))
    assert releases.released == []  # main waits now, but main.1.1 has not ended
    assert schedule.hold(_entry("main.1.1", "exit_group", 51)) is False
    schedule.on_event(ExitEvent(seq=9, pid=51, tid=51, role="main.1.1", code=0))
    assert releases.released == [50]
