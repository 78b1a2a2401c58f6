"""Explanations built from hand-made traces: every restart code by its real rule, dispositions from history."""

from __future__ import annotations

from typing import Any

import pytest

from harness import kernel
from harness.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.explain import Finding, disposition_at, explain, render
from harness.facts import TraceIndex
from harness.trace import Trace

MAIN, CHILD = 100, 101


class Story:
    """Builds a trace in order: each call gets the next seq numbers."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.seq = 0

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def call(self, name: str, ret: int | None, *, pid: int = MAIN, role: str = "main", **args: Any) -> None:
        entered = self._next()
        self.events.append(
            SyscallEvent(
                seq=self._next(),
                pid=pid,
                tid=pid,
                role=role,
                name=name,
                args=args,
                ret=ret,
                errno=kernel.errno_name(ret) if ret is not None else None,
                enter_seq=entered,
            )
        )

    def handler(self, signal: str, *flags: str, handler: str = "0x401000") -> None:
        act = {"handler": handler, "flags": ["SA_RESTORER", *flags], "mask": [], "restorer": "0x402000"}
        self.call("rt_sigaction", 0, signal=signal, act=act, sigsetsize=8)

    def fork(self, child: int = CHILD, role: str = "main.1") -> None:
        self.events.append(
            SpawnEvent(
                seq=self._next(),
                pid=MAIN,
                tid=MAIN,
                role="main",
                child_pid=child,
                child_tid=child,
                child_role=role,
                via="clone",
                thread=False,
            )
        )
        self.call("clone", child, flags=["SIGCHLD"])

    def child_exits(self, child: int = CHILD, role: str = "main.1") -> None:
        self.events.append(ExitEvent(seq=self._next(), pid=child, tid=child, role=role, code=0))

    def sigchld(self) -> None:
        info = {"si_signo": "SIGCHLD", "si_code": "CLD_EXITED", "si_pid": CHILD, "si_uid": 0, "si_status": 0}
        self.events.append(SignalEvent(seq=self._next(), pid=MAIN, tid=MAIN, role="main", name="SIGCHLD", siginfo=info))

    def trace(self) -> Trace:
        return Trace(tuple(self.events))


def _interrupted(story: Story) -> Finding:
    (finding,) = [finding for finding in explain(story.trace()) if finding.kind == "interrupted"]
    return finding


def _text(finding: Finding) -> str:
    return " ".join((finding.title, *finding.details))


@pytest.mark.parametrize(
    ("code", "flags", "outcome"),
    [
        ("ERESTARTSYS", (), "EINTR"),
        ("ERESTARTSYS", ("SA_RESTART",), "restart"),
        ("ERESTARTNOHAND", ("SA_RESTART",), "EINTR"),
        ("ERESTARTNOINTR", (), "restart"),
        ("ERESTART_RESTARTBLOCK", ("SA_RESTART",), "EINTR"),
    ],
)
def test_a_handler_decides_each_restart_code_by_its_rule(code: str, flags: tuple[str, ...], outcome: str) -> None:
    assert kernel.restart_outcome(code, handler=True, sa_restart=bool(flags)) == outcome
    story = Story()
    story.handler("SIGCHLD", *flags)
    story.fork()
    story.child_exits()
    story.call("accept4", -kernel.ERRNO_NUMBERS[code], fd=3)
    story.sigchld()
    story.call("rt_sigreturn", -4 if outcome == "EINTR" else 288)
    story.call("accept4", 4, fd=3)
    finding = _interrupted(story)
    text = _text(finding)
    assert kernel.RESTART_RULES[code] in text
    assert ("with SA_RESTART" if flags else "without SA_RESTART") in text
    if outcome == "EINTR":
        assert "failed with EINTR" in finding.title and "called accept4 again" in text
    else:
        assert "was restarted" in finding.title and "returned the call's own number" in text
    assert "predicts" not in text  # the evidence agrees with the rule


def test_without_a_handler_restart_restartblock_resumes_through_restart_syscall() -> None:
    assert kernel.restart_outcome("ERESTART_RESTARTBLOCK", handler=False, sa_restart=False) == "restart_syscall"
    story = Story()
    story.fork()
    story.child_exits()
    story.call("clock_nanosleep", -516)
    story.sigchld()
    story.call("restart_syscall", 0)
    finding = _interrupted(story)
    assert "resumed" in finding.title
    assert "restart_syscall at #" in _text(finding)
    assert "default disposition" in _text(finding)


def test_evidence_that_contradicts_the_rule_is_pointed_out() -> None:
    story = Story()  # no rt_sigaction in the trace, yet a handler clearly ran
    story.fork()
    story.child_exits()
    story.call("accept4", -512, fd=3)
    story.sigchld()
    story.call("rt_sigreturn", -4)
    assert "The rule predicts restart" in _text(_interrupted(story))


def test_a_child_inherits_its_parents_disposition_and_exec_resets_a_handler() -> None:
    story = Story()
    story.handler("SIGCHLD")
    story.fork()
    trace = story.trace()
    index = TraceIndex(trace)
    inherited = disposition_at(trace, index, "main.1", "SIGCHLD", story.seq + 1)
    assert inherited.handler == "handler" and inherited.inherited_from == "main"
    story.events.append(ExecEvent(seq=story._next(), pid=MAIN, tid=MAIN, role="main", filename="/bin/true"))
    trace = story.trace()
    after_exec = disposition_at(trace, TraceIndex(trace), "main", "SIGCHLD", story.seq + 1)
    assert after_exec.handler == "SIG_DFL"


def test_a_reaped_child_is_a_zombie_until_the_wait_and_the_lesson_is_said_once() -> None:
    story = Story()
    story.handler("SIGCHLD")
    for number in (1, 2):
        story.fork(CHILD + number, f"main.{number}")
        story.child_exits(CHILD + number, f"main.{number}")
        story.call("wait4", CHILD + number, pid=-1, options=["WNOHANG"])
    zombies = [finding for finding in explain(story.trace()) if finding.kind == "zombie"]
    assert [finding.title.split(" was ")[1] for finding in zombies] == ["a zombie until #8", "a zombie until #14"]
    assert sum("An exited process does not vanish" in _text(finding) for finding in zombies) == 1


def test_render_as_markdown_and_text() -> None:
    story = Story()
    story.fork()
    story.child_exits()
    findings = explain(story.trace())
    assert render(findings, format="markdown").startswith("### #")
    assert render(findings).splitlines()[1].startswith("  main.1 (pid 101) exited")
