"""Numbers follow open files: a dup joins, a close or dup2 or close_range or exec frees, a reused number is new."""

from __future__ import annotations

from support.stories import Story

from harness.analysis.descriptors import follow
from harness.analysis.facts import TraceIndex, closes_the_listening_socket, descriptor_ends
from harness.model.events import ExecEvent, SyscallEvent


def _table(story: Story, role: str, held: dict[int, str]) -> tuple[dict[int, str], list[tuple[int, str]]]:
    table, freed = dict(held), []
    for event in story.events:
        if event.role == role:
            freed += follow(table, event)
    return table, freed


def test_a_dup_refers_to_the_same_file_and_the_file_is_held_until_every_number_is_freed() -> None:
    story = Story()
    story.call("main", "dup", 5, oldfd=3)
    story.call("main", "fcntl", 10, fd=3, cmd="F_DUPFD_CLOEXEC", arg=10)
    story.call("main", "close", 0, fd=3)
    assert _table(story, "main", {3: "listener"}) == ({5: "listener", 10: "listener"}, [(3, "listener")])


def test_dup2_onto_a_number_frees_it_and_close_range_frees_a_span() -> None:
    story = Story()
    story.call("main", "dup2", 3, oldfd=7, newfd=3)  # 7 is not followed: 3 now refers to something else
    story.call("main", "close_range", 0, fd=4, max_fd=4294967295, flags=[])
    assert _table(story, "main", {3: "listener", 4: "conn", 9: "other"}) == (
        {},
        [(3, "listener"), (4, "conn"), (9, "other")],
    )


def test_close_range_cloexec_frees_nothing_and_a_failed_call_changes_nothing() -> None:
    story = Story()
    story.call("main", "close_range", 0, fd=3, max_fd=10, flags=["CLOSE_RANGE_CLOEXEC"])
    story.call("main", "dup", -24, oldfd=3)  # EMFILE
    story.call("main", "close", -9, fd=3)  # EBADF: it was not open
    assert _table(story, "main", {3: "listener"}) == ({3: "listener"}, [])


def test_a_number_handed_out_again_was_freed_unseen() -> None:
    story = Story()
    story.call("main", "accept", 3, fd=4)  # the kernel gives out free numbers only: 3 was closed by some other call
    assert _table(story, "main", {3: "listener"}) == ({}, [(3, "listener")])


def test_an_exec_frees_the_numbers_it_closed() -> None:
    story = Story()
    story.events.append(ExecEvent(seq=1, pid=100, tid=100, role="main", filename="/bin/cat", fds=(0, 1, 2)))
    assert _table(story, "main", {0: "conn", 7: "listener"}) == ({0: "conn"}, [(7, "listener")])


def _child_with_a_dup_of_the_listener(*, closes_the_dup: bool) -> Story:
    story = Story()
    story.call("main", "listen", 0, fd=3, backlog=5)
    story.spawn("main", "main.1")
    story.call("main.1", "dup", 6, oldfd=3)
    story.call("main.1", "close", 0, fd=3)
    if closes_the_dup:
        story.call("main.1", "close", 0, fd=6)
    story.exit("main.1")
    return story


def test_a_child_that_closed_only_the_first_number_still_holds_the_listener() -> None:
    index = TraceIndex(_child_with_a_dup_of_the_listener(closes_the_dup=False).trace())

    violations = closes_the_listening_socket(index, "main.1")  # it passed before: close(3) was taken for the end
    assert [violation.message for violation in violations] == [
        "main.1 never closed the listening socket fd 3 it inherited from main; it exited at #8 still holding it "
        "(as fd 6)"
    ]
    assert descriptor_ends(index, "main.1", {3: "main"}) == {}


def test_a_child_that_closed_every_number_closed_the_listener() -> None:
    index = TraceIndex(_child_with_a_dup_of_the_listener(closes_the_dup=True).trace())

    assert closes_the_listening_socket(index, "main.1") == []
    (end,) = descriptor_ends(index, "main.1", {3: "main"}).values()
    assert isinstance(end.event, SyscallEvent) and end.event.args["fd"] == 6  # the last number freed, not 3
