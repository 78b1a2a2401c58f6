"""Explanations built from hand-made traces: every restart code by its real rule, dispositions from history."""

from __future__ import annotations

import pytest
from support.stories import Story

from harness.analysis.explain import explain
from harness.analysis.facts import TraceIndex, disposition_at, no_zombie_left
from harness.analysis.finding import Finding, render
from harness.model import kernel, record
from harness.model.events import SyscallEvent
from harness.model.trace import Trace


def _story(*flags: str, handler: bool = True) -> Story:
    """main, with a SIGCHLD handler (or none), forks main.1, which exits."""
    story = Story()
    if handler:
        act = {"handler": "0x401000", "flags": ["SA_RESTORER", *flags], "mask": [], "restorer": "0x402000"}
        story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act=act, sigsetsize=8)
    story.spawn("main", "main.1")
    story.call("main", "clone", 101, flags=["SIGCHLD"])
    story.exit("main.1")
    return story


def _sigchld(story: Story) -> None:
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_uid=0, si_status=0)


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
    story = _story(*flags)
    story.call("main", "accept4", -kernel.ERRNO_NUMBERS[code], fd=3)
    _sigchld(story)
    story.call("main", "rt_sigreturn", -4 if outcome == "EINTR" else 288)
    story.call("main", "accept4", 4, fd=3)
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
    story = _story(handler=False)
    story.call("main", "clock_nanosleep", -516)
    _sigchld(story)
    story.call("main", "restart_syscall", 0)
    finding = _interrupted(story)
    assert "resumed" in finding.title
    assert "restart_syscall at #" in _text(finding)
    assert "default disposition" in _text(finding)


def test_evidence_that_contradicts_the_rule_is_pointed_out() -> None:
    story = _story(handler=False)  # no rt_sigaction in the trace, yet a handler clearly ran
    story.call("main", "accept4", -512, fd=3)
    _sigchld(story)
    story.call("main", "rt_sigreturn", -4)
    assert "The rule predicts restart" in _text(_interrupted(story))


def test_a_child_inherits_its_parents_disposition_and_exec_resets_a_handler() -> None:
    story = _story()
    trace = story.trace()
    index = TraceIndex(trace)
    inherited = disposition_at(index, "main.1", "SIGCHLD", story.seq + 1)
    assert inherited.handler == "handler" and inherited.inherited_from == "main"
    story.exec("main", "/bin/true")
    trace = story.trace()
    after_exec = disposition_at(TraceIndex(trace), "main", "SIGCHLD", story.seq + 1)
    assert after_exec.handler == "SIG_DFL"


def test_a_reaped_child_is_a_zombie_until_the_wait_and_the_lesson_is_said_once() -> None:
    story = Story()
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={"handler": "0x401000", "flags": [], "mask": []})
    for number in (1, 2):
        story.spawn("main", f"main.{number}")
        story.call("main", "clone", 100 + number, flags=["SIGCHLD"])
        story.exit(f"main.{number}")
        story.call("main", "wait4", 100 + number, pid=-1, options=["WNOHANG"])
    zombies = [finding for finding in explain(story.trace()) if finding.kind == "zombie"]
    assert [finding.title.split(" was ")[1] for finding in zombies] == ["a zombie until #8", "a zombie until #14"]
    assert sum("An exited process does not vanish" in _text(finding) for finding in zombies) == 1


def test_render_as_markdown_and_text() -> None:
    findings = explain(_story(handler=False).trace())
    assert render(findings, format="markdown").startswith("### #")
    assert render(findings).splitlines()[1].startswith("  main.1 (pid 101) exited")


def test_a_child_of_a_handler_with_sa_nocldwait_is_reaped_by_the_kernel_as_the_fact_says() -> None:
    story = _story("SA_NOCLDWAIT")  # a handler, but no zombies: wait(2), SA_NOCLDWAIT
    story.call("main", "exit_group", None, status=0)
    story.exit("main")
    trace = story.trace()
    (finding,) = [finding for finding in explain(trace) if finding.roles == ("main", "main.1")]
    assert finding.kind == "auto-reaped"
    assert no_zombie_left(TraceIndex(trace), "main") == []


def _timed(trace: Trace, step: float = 0.01) -> Trace:
    """The same trace as if each seq number took ``step`` seconds: a call lasts from its entry to its exit."""
    events = []
    for event in trace:
        values: dict[str, object] = {"time": event.seq * step}
        if isinstance(event, SyscallEvent):
            values["duration"] = (event.seq - event.enter_seq) * step
        events.append(record.replace(event, **values))
    return Trace(tuple(events))


def test_durations_stand_beside_event_numbers_where_the_trace_has_times() -> None:
    story = _story()
    blocked = story.enter()
    story.call("main", "accept4", -512, enter=blocked, fd=3)
    _sigchld(story)
    story.call("main", "rt_sigreturn", -4)
    story.call("main", "wait4", 101, pid=-1, options=["WNOHANG"])
    untimed = explain(story.trace())
    timed = explain(_timed(story.trace()))
    interrupted = next(f for f in timed if f.kind == "interrupted")
    assert "was blocked in accept4 (entered at #7) for 10.0 ms;" in _text(interrupted)
    zombie = next(f for f in timed if f.kind == "zombie")
    assert zombie.title == "#6 main.1 was a zombie until #13 (70.0 ms)"
    assert "(7 events later, 70.0 ms after its exit)" in _text(zombie)
    # Without times, the same findings say only what the events say.
    assert [f.title for f in untimed] == [f.title.split(" (70.0 ms)")[0] for f in timed]
    assert not any(" ms" in _text(f) for f in untimed)


def test_an_unreaped_zombie_says_how_long_it_lived_until_its_parent_exited() -> None:
    story = _story(handler=False)
    story.exit("main")
    (zombie,) = [f for f in explain(_timed(story.trace(), step=1.5)) if f.kind == "zombie"]
    assert "until main exited at #5, 1.500 s later" in _text(zombie)
