"""explain with Python frames, on hand-built traces: the frames decide whose retry it was, and nothing else does."""

from __future__ import annotations

import pytest
from support.stories import Story

from harness.analysis.explain import explain
from harness.model import record
from harness.model.events import Event, SignalEvent, SyscallEvent
from harness.model.frames import Frame, Stack
from harness.model.trace import Trace

LIBRARY = Frame(file="/usr/lib/python3.11/socket.py", line=294, function="accept")
SERVE = Frame(file="/srv/myserver.py", line=41, function="serve")
RAW = Frame(file="/srv/myserver.py", line=12, function="raw_accept")
REAP = Frame(file="/srv/myserver.py", line=20, function="reap")
PEP_475: Stack = (LIBRARY, SERVE)
OWN: Stack = (RAW, SERVE)


def interrupted_accept(first: Stack | None, handler: Stack | None, again: Stack | None) -> Trace:
    """A Python server's accept4 interrupted by SIGCHLD, its handler's wait4, and accept4 entered again."""
    story = Story()
    story.exec("main")
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={"handler": "0x4011d6", "mask": [], "flags": []})
    story.spawn("main", "main.1")
    accept = story.enter()
    story.exit("main.1", 0)
    story.call("main", "accept4", -512, enter=accept, fd=3, flags=[])
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "rt_sigreturn", -4)
    story.call("main", "wait4", 101, pid=-1, options=["WNOHANG"])
    story.call("main", "accept4", 4, fd=3, flags=[])
    stacks = {"accept4": [first, again], "wait4": [handler], "SIGCHLD": [first]}

    def framed(event: Event) -> Event:
        if isinstance(event, SyscallEvent | SignalEvent) and event.name in stacks:
            return record.replace(event, python=stacks[event.name].pop(0))
        return event

    return Trace(tuple(framed(event) for event in story.events))


def account(trace: Trace) -> str:
    (finding,) = [finding for finding in explain(trace) if finding.kind == "interrupted"]
    return " ".join(finding.details)


def test_the_same_stack_with_the_library_innermost_is_the_librarys_retry() -> None:
    text = account(interrupted_accept(PEP_475, (REAP, *PEP_475), PEP_475))
    assert "(entered at #5, at socket.py:294 in accept <- myserver.py:41 in serve)" in text
    assert "Both entries come from the same place in the standard library" in text and "(PEP 475)" in text
    assert "The Python handler reap (myserver.py:20) ran in between, on top of the interrupted call's frames" in text
    assert "Two causes fit" not in text


def test_the_programs_own_frame_innermost_is_its_own_loop_with_its_line() -> None:
    text = account(interrupted_accept(OWN, (REAP, *OWN), OWN))
    assert "The program's own code made the call again, at myserver.py:12 in raw_accept, called from" in text
    assert "PEP 475" not in text


@pytest.mark.parametrize("handler", [None, (REAP, SERVE)])
def test_no_handler_is_named_without_frames_stacked_on_the_interrupted_call(handler: Stack | None) -> None:
    text = account(interrupted_accept(PEP_475, handler, PEP_475))
    assert "The Python handler" not in text


def test_without_frames_both_causes_are_still_offered() -> None:
    text = account(interrupted_accept(None, None, None))
    assert "Two causes fit, and the trace cannot tell them apart" in text
