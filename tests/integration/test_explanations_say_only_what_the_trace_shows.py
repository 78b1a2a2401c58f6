"""`harness explain` on programs nobody wrote for it: each claim is checked for what it must say and must NOT say.

One mode of ``programs/interruptions.c`` per claim, ordered by sleep-free
handshakes, so every run gives the same trace.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.runs import Run

from harness.analysis.explain import explain
from harness.analysis.facts import TraceIndex, reaped_before_the_next_accept
from harness.analysis.finding import Finding
from harness.analysis.golden import normalize
from harness.analysis.interruptions import interruptions
from harness.model.events import SignalEvent
from harness.model.scenario import Scenario
from harness.running.sources import read_trace, trace_of

pytestmark = pytest.mark.ptrace

Traced = Callable[..., Run]
Program = Callable[[str], Path]


def _run(traced: Traced, c_program: Program, mode: str) -> Run:
    run = traced([c_program("interruptions"), mode])
    assert run.result.exit_code == 0, run.stderr
    return run


def _text(findings: list[Finding]) -> str:
    return "\n".join(" ".join((finding.title, *finding.details)) for finding in findings)


def test_sigchld_at_its_default_stopping_poll_is_labelled_a_tracer_artefact(traced: Traced, c_program: Program) -> None:
    run = traced([c_program("interruptions"), "poll_dfl"])
    (account,) = interruptions(TraceIndex(run.trace))
    assert (account.call_name, account.code, account.outcome) == ("poll", "ERESTART_RESTARTBLOCK", "restart_syscall")
    assert account.tracer_only
    text = _text([f for f in explain(run.trace) if f.kind == "interrupted"])
    assert "[tracer artefact]" in text and "only because the process is traced" in text
    assert "restart_syscall" in text and "default action is to ignore it" in text
    assert "EINTR" not in text.replace("turns it into EINTR", "")


def test_pause_interrupted_is_named_by_the_signal_event_though_pause_is_not_traced(
    traced: Traced, c_program: Program
) -> None:
    run = _run(traced, c_program, "pause")
    (signal,) = [e for e in run.trace if isinstance(e, SignalEvent)]
    assert (signal.syscall, signal.syscall_errno) == ("pause", "ERESTARTNOHAND")
    text = _text(explain(run.trace))
    assert "pause failed with EINTR (ERESTARTNOHAND, SIGUSR1)" in text
    assert "sent by main.1" in text and "without SA_RESTART" in text
    assert "tracer artefact" not in text and "PEP 475" not in text


def test_wait4_returning_just_before_sigchld_is_no_interruption_and_golden_holds_no_pid(
    traced: Traced, c_program: Program
) -> None:
    first, second = (_run(traced, c_program, "wait_then_sigchld") for _ in range(2))
    assert interruptions(TraceIndex(first.trace)) == []
    assert [f for f in explain(first.trace) if f.kind == "interrupted"] == []
    story = normalize(first.trace)
    assert "rt_sigreturn({mask=[]}) = (restores wait4's result)" in story["main"]
    assert story == normalize(second.trace)
    pids = {str(e.pid) for e in first.trace}
    assert not any(re.search(rf"\b{pid}\b", line) for line in story["main"] for pid in pids)


def test_a_pre_fork_worker_is_not_blamed_for_its_listening_socket_and_a_killed_one_is_killed(
    traced: Traced, c_program: Program
) -> None:
    run = _run(traced, c_program, "prefork")
    findings = explain(run.trace)
    text = _text(findings)
    assert [f for f in findings if f.kind == "kept-listener"] == []
    assert "main.2 (pid " in text and "was killed by SIGKILL" in text
    assert "with signal SIGKILL" not in text and "exited at" not in text.split("main.2 (pid")[1].split("\n")[0]


def test_a_handler_that_does_not_reap_is_named_and_breaks_reaped_before_the_next_accept(
    traced: Traced, c_program: Program
) -> None:
    run = _run(traced, c_program, "no_reap")
    (violation,) = reaped_before_the_next_accept(TraceIndex(run.trace), "main")
    assert violation.message.startswith("main.1 (pid ") and "still a zombie when main accepted" in violation.message
    text = _text(explain(run.trace))
    assert "the handler ran, yet no wait collected main.1" in text


def test_a_c_program_with_its_own_eintr_loop_is_not_credited_to_pep_475(traced: Traced, c_program: Program) -> None:
    run = _run(traced, c_program, "eintr_loop")
    assert run.stderr.count("accept: Interrupted system call") == 1
    text = _text([f for f in explain(run.trace) if f.kind == "interrupted"])
    assert "accept failed with EINTR (ERESTARTSYS, SIGCHLD)" in text
    assert "it handles EINTR itself" in text
    assert "PEP 475" not in text and "CPython" not in text and "tracer artefact" not in text
    assert reaped_before_the_next_accept(TraceIndex(run.trace), "main") == []


def test_a_python_server_whose_eintr_reaches_it_is_not_explained_as_pep_475_alone(ptrace_permitted: None) -> None:
    trace = trace_of("fork_sigchld_raises", Scenario(connections=2))
    (finding,) = [f for f in explain(trace) if f.kind == "interrupted"]
    text = _text([finding])
    assert "Two causes fit" in text and "PEP 475" in text and "the program's own loop saw EINTR" in text
    assert "Python 2 would have raised" not in text and "handler's wait4" not in text


def test_an_strace_log_without_the_exec_says_it_cannot_tell_who_retried(ptrace_permitted: None, tmp_path: Path) -> None:
    """A log traced without ``execve`` (or cut after it) names no program: no CPython story, no "it handles it".

    The log is the harness's own run in strace's text (``--strace-log``: the deterministic schedule makes each
    child's exit interrupt the blocked accept4, on every run). With its exec line it names CPython and the two
    causes that fit; with the exec's line taken out, as ``strace -e trace=`` without execve writes it, the
    explanation says the trace cannot tell.
    """
    log = tmp_path / "server.log"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "fork_sigchld", "--connections", "2", "--strace-log", str(log)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with_exec = _text([f for f in explain(read_trace(str(log))) if f.kind == "interrupted"])
    assert "Two causes fit" in with_exec and "handles EINTR itself" not in with_exec
    execless = tmp_path / "execless.log"
    execless.write_text("".join(line for line in log.read_text().splitlines(True) if "execve(" not in line))
    without = _text([f for f in explain(read_trace(str(execless))) if f.kind == "interrupted"])
    assert "accept4 failed with EINTR (ERESTARTSYS, SIGCHLD)" in without
    assert "does not show who called again" in without and "does not show which program reads the EINTR" in without
    assert "handles EINTR itself" not in without and "Two causes fit" not in without
    assert "the program saw accept4 fail" not in without
