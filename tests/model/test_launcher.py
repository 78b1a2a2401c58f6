"""The launcher's share of a trace is named for what it is; the server's roles start at its own program."""

from __future__ import annotations

from support.stories import Story

from harness.model.trace import Trace


def _launched(*, listen_in: str = "main") -> Story:
    """A shell that forks a helper, then execs the server; the server forks a thread and a child per connection."""
    story = Story()
    story.exec("main", "/bin/sh")
    story.spawn("main", "main.1")  # $(dirname "$0")
    story.exec("main.1", "/usr/bin/dirname")
    story.exit("main.1")
    story.call("main", "wait4", 101, pid=-1)
    story.exec("main", "/usr/bin/python3")  # exec "$@": the server
    story.spawn("main", "main/t1", thread=True)
    if listen_in == "main":
        story.call("main", "listen", 0, fd=3, backlog=5)
        story.spawn("main", "main.2")
        story.spawn("main.2", "main.2.1")
    else:  # a daemon: the listener is the grandchild
        story.spawn("main", "main.2")
        story.spawn("main.2", "main.2.1")
        story.call("main.2.1", "listen", 0, fd=3, backlog=5)
        story.spawn("main.2", "main.2.2")
    story.exit("main.2")
    story.exit("main")
    return story


def test_the_launchers_process_helpers_and_the_servers_children_are_renamed() -> None:
    trace = Trace.recorded(_launched().events)

    assert trace.roles() == ["launcher", "launcher.1", "main", "main.1"]
    assert [event.type for event in trace.for_role("main")][:2] == ["exec", "spawn"]  # main begins at its exec
    spawns = [(event.role, getattr(event, "child_role", None)) for event in trace if event.type == "spawn"]
    assert spawns == [("launcher", "launcher.1"), ("main", "main/t1"), ("main", "main.1"), ("main.1", "main.1.1")]
    assert trace.role_of_pid(101) == "launcher.1"


def test_the_serving_program_is_found_up_the_tree_from_a_listen_in_a_grandchild() -> None:
    trace = Trace.recorded(_launched(listen_in="main.2.1").events)

    assert trace.roles() == ["launcher", "launcher.1", "main", "main.1", "main.1.1"]


def test_a_direct_start_a_trace_without_listen_and_a_named_trace_are_left_as_they_are() -> None:
    direct = Story()
    direct.exec("main")
    direct.call("main", "listen", 0, fd=3, backlog=5)
    direct.spawn("main", "main.1")
    assert Trace.recorded(direct.events).events == tuple(direct.events)

    no_listen = _launched()
    no_listen.events[:] = [event for event in no_listen.events if getattr(event, "name", None) != "listen"]
    assert Trace.recorded(no_listen.events).events == tuple(no_listen.events)

    named = Trace.recorded(_launched().events)
    assert Trace.recorded(named.events) == named  # a JSON Lines trace written named, read back


def test_a_program_that_listens_before_it_execs_is_the_server() -> None:
    story = Story()
    story.exec("main", "/usr/bin/socat")
    story.call("main", "listen", 0, fd=3, backlog=5)
    story.spawn("main", "main.1")
    story.exit("main.1")
    story.exec("main", "/usr/bin/other")
    assert Trace.recorded(story.events).roles() == ["main", "main.1"]
