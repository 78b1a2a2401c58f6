"""Comparing stories without running anything: where each starts, and how the two sides are named."""

from __future__ import annotations

from support.stories import Story as Builder

from harness.analysis.golden import GoldenTrace
from harness.analysis.story_diff import Story, common_start, compare, story_of
from harness.model.trace import Trace


def served(*, reap: bool) -> Trace:
    """A server that listens, accepts one connection, forks a child for it and (or not) reaps it."""
    story = Builder()
    story.call("main", "listen", 0, fd=3, backlog=5)
    story.call("main", "accept4", 4, fd=3)
    story.spawn("main", "main.1")
    story.call("main", "close", 0, fd=4)
    story.exit("main.1")
    if reap:
        story.call("main", "wait4", 101, pid=-1, options=["WNOHANG"])
    story.exit("main")
    return story.trace()


def test_traces_are_cut_where_the_first_golden_file_starts_else_at_listen() -> None:
    golden = GoldenTrace(roles={"main": ("accept4() = 4",)}, start_after="accept4")
    assert common_start([served(reap=True), golden]) == "accept4"
    assert common_start([served(reap=True), served(reap=False)]) == "listen"
    assert common_start([GoldenTrace(roles={}, start_after=None)]) is None


def test_a_trace_without_the_start_call_is_told_from_the_beginning() -> None:
    from_listen = story_of("run.jsonl", served(reap=True), start_after="listen")
    assert from_listen.missed_start is None
    missing = story_of("run.jsonl", served(reap=True), start_after="bind")
    assert missing.missed_start == "bind"
    assert missing.events > 0


def test_the_same_story_gives_no_lines_and_a_changed_one_names_the_role() -> None:
    a = story_of("a.jsonl", served(reap=True), start_after="listen")
    assert compare(a, a).same
    b = story_of("b.jsonl", served(reap=False), start_after="listen")
    diff = compare(a, b)
    assert not diff.same
    assert diff.lines[:2] == ("--- a.jsonl", "+++ b.jsonl")
    assert any(line.startswith("== main:") for line in diff.lines)
    assert any(line.startswith("-wait4(") for line in diff.lines)


def test_two_sides_with_one_label_are_told_apart() -> None:
    one = Story("fork_sigchld", {"main": ("listen() = 0",)})
    other = Story("fork_sigchld", {"main": ("listen() = 0", "close() = 0")})
    assert compare(one, other).lines[:2] == ("--- fork_sigchld (A)", "+++ fork_sigchld (B)")
