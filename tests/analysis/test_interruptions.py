"""The one account of each interruption, on hand-built traces: outcome, disposition, evidence, tracer artefacts."""

from __future__ import annotations

from support.stories import Story

from harness.analysis.explain import explain
from harness.analysis.facts import TraceIndex, reaped_before_the_next_accept
from harness.analysis.golden import normalize
from harness.analysis.interruptions import interruptions
from harness.analysis.match_context import MatchContext
from harness.model.events import SignalEvent
from harness.model.record import replace
from harness.model.syscalls import syscall_number

HANDLER = {"handler": "0x5555", "flags": ["SA_RESTORER"], "mask": [], "restorer": "0x7777"}


def _name_the_call(story: Story, call: str, code: str | None) -> None:
    """What the tracer records at a signal-delivery stop: the call the task was in (orig_rax) and its rax."""
    last = story.events[-1]
    assert isinstance(last, SignalEvent)
    story.events[-1] = replace(last, syscall=call, syscall_errno=code)


def test_a_handler_without_sa_restart_gives_eintr_with_its_evidence() -> None:
    story = Story()
    install = story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act=HANDLER, oldact=None)
    story.spawn("main", "main.1")
    story.exit("main.1")
    call = story.call("main", "accept4", -512, fd=3)
    signal = story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    sigreturn = story.call("main", "rt_sigreturn", -4)
    (account,) = interruptions(TraceIndex(story.trace()))
    assert (account.call, account.signal, account.evidence) == (call, signal, sigreturn)
    assert (account.outcome, account.seen, account.expected, account.code) == ("EINTR", "EINTR", "EINTR", "ERESTARTSYS")
    assert account.sender == "main.1"
    assert account.disposition is not None and account.disposition.evidence == install
    assert not account.tracer_only
    assert MatchContext(story.trace()).seen == {call.seq: "EINTR"}


def test_sigchld_at_its_default_stopping_poll_is_a_tracer_artefact_resumed_through_restart_syscall() -> None:
    story = Story()
    story.spawn("main", "main.1")
    story.exit("main.1")
    call = story.call("main", "poll", -516, fds="0x1", nfds=1, timeout=-1)
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    resumed = story.call("main", "restart_syscall", 1)
    (account,) = interruptions(TraceIndex(story.trace()))
    assert (account.call, account.outcome, account.evidence) == (call, "restart_syscall", resumed)
    assert account.tracer_only
    assert MatchContext(story.trace()).seen == {call.seq: "restarted"}
    (finding,) = [f for f in explain(story.trace()) if f.kind == "interrupted"]
    assert "[tracer artefact]" in finding.title
    assert any("only because the process is traced" in detail for detail in finding.details)


def test_an_untraced_call_is_named_by_the_signal_event() -> None:
    story = Story()
    story.call("main", "rt_sigaction", 0, signal="SIGUSR1", act=HANDLER, oldact=None)
    story.signal("main", "SIGUSR1", si_code="SI_USER", si_pid=100)
    _name_the_call(story, "pause", "ERESTARTNOHAND")
    sigreturn = story.call("main", "rt_sigreturn", -4)
    (account,) = interruptions(TraceIndex(story.trace()))
    assert (account.call, account.call_name, account.code) == (None, "pause", "ERESTARTNOHAND")
    assert (account.outcome, account.evidence) == ("EINTR", sigreturn)
    (finding,) = explain(story.trace())
    assert finding.title.startswith(f"#{story.events[1].seq} main: pause failed with EINTR (ERESTARTNOHAND, SIGUSR1)")


def test_an_orphaned_eintr_without_a_named_call_says_what_it_can() -> None:
    story = Story()
    story.signal("main", "SIGUSR1", si_code="SI_USER", si_pid=100)
    story.call("main", "rt_sigreturn", -4)
    (account,) = interruptions(TraceIndex(story.trace()))
    assert (account.call_name, account.outcome) == (None, "EINTR")
    text = " ".join(explain(story.trace())[0].details)
    assert "a call this trace does not record" in text and "does not say which" in text


def test_a_call_that_returned_before_the_signal_is_no_interruption_and_its_restored_result_is_no_pid() -> None:
    story = Story()
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act=HANDLER, oldact=None)
    story.spawn("main", "main.1")
    story.exit("main.1")
    story.call("main", "wait4", 101, pid=101, status=None, options=[])
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    _name_the_call(story, "wait4", None)
    story.call("main", "rt_sigreturn", 101)
    assert interruptions(TraceIndex(story.trace())) == []
    assert normalize(story.trace())["main"][-1] == "rt_sigreturn() = (restores wait4's result)"


def test_the_handler_calling_the_interrupted_call_does_not_count_as_its_restart() -> None:
    # A blocking wait4 interrupted by SIGCHLD whose C handler calls wait4(WNOHANG) before rt_sigreturn.
    story = Story()
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={**HANDLER, "flags": ["SA_RESTART"]}, oldact=None)
    call = story.call("main", "wait4", -512, pid=-1, status=None, options=[])
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "wait4", 101, pid=-1, status=None, options=["WNOHANG"])
    sigreturn = story.call("main", "rt_sigreturn", syscall_number("wait4"))
    (account,) = interruptions(TraceIndex(story.trace()))
    assert (account.call, account.outcome, account.evidence) == (call, "restarted", sigreturn)
    assert normalize(story.trace())["main"][-1] == "rt_sigreturn() = (restarts wait4)"


def test_a_task_that_dies_in_the_interrupted_call_is_told_so() -> None:
    story = Story()
    story.call("main", "accept4", -512, fd=3)
    story.signal("main", "SIGTERM", si_code="SI_USER", si_pid=1)
    ended = story.exit("main", signal="SIGTERM")
    (account,) = interruptions(TraceIndex(story.trace()))
    assert (account.outcome, account.evidence) == ("died", ended)
    text = " ".join(explain(story.trace())[0].details)
    assert "was killed by SIGTERM" in text and "exited" not in text


def test_a_child_reaped_only_after_the_next_accept_breaks_reaped_before_the_next_accept() -> None:
    story = Story()
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act=HANDLER, oldact=None)
    story.spawn("main", "main.1")
    story.exit("main.1")
    story.call("main", "accept4", -512, fd=3)
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "rt_sigreturn", -4)
    accepted = story.call("main", "accept4", 4, fd=3)
    reap = story.call("main", "wait4", 101, pid=-1, status=None, options=[])
    story.exit("main")
    (violation,) = reaped_before_the_next_accept(TraceIndex(story.trace()), "main")
    assert violation.events[1:] == (accepted, reap)
    assert f"still a zombie when main accepted a connection at #{accepted.seq}" in violation.message
    text = " ".join(d for f in explain(story.trace()) if f.kind == "zombie" for d in f.details)
    assert "the handler ran, yet no wait collected main.1" in text


def test_a_failure_report_resting_on_an_event_that_exists_only_under_ptrace_says_so() -> None:
    from harness.analysis.failure_text import format_mismatch
    from harness.analysis.match_sequence import match_sequence
    from harness.model.steps import parse_step

    story = Story()
    story.spawn("main", "main.1")
    story.exit("main.1")
    call = story.call("main", "poll", -516, fds="0x1", nfds=1, timeout=-1)
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "restart_syscall", 1)
    trace = story.trace()
    ctx = MatchContext(trace)
    steps = [parse_step("poll -> ERESTART_RESTARTBLOCK"), parse_step("--- SIGCHLD"), parse_step("accept4")]
    mismatch = match_sequence(list(trace), steps, ctx, role="main")
    assert mismatch is not None
    text = "\n".join(format_mismatch(mismatch))
    assert f"#{call.seq} is a tracer artefact: SIGCHLD is ignored (SIG_DFL)" in text
    assert "untraced it would not have interrupted poll" in text


def test_the_report_draws_a_tracer_only_interruption_apart_from_a_real_one() -> None:
    from harness.analysis.timeline import Axis, spans

    story = Story()
    story.spawn("main", "main.1")
    story.exit("main.1")
    artefact = story.call("main", "poll", -516, fds="0x1", nfds=1, timeout=-1)
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "restart_syscall", 1)
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act=HANDLER, oldact=None)
    real = story.call("main", "accept4", -512, fd=3)
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "rt_sigreturn", -4)
    trace = story.trace()
    kinds = {span.event.seq: span.kinds for span in spans(trace, Axis(trace))}
    assert kinds[artefact.seq] == ("interrupted", "tracer-artefact")
    assert kinds[real.seq] == ("interrupted",)
