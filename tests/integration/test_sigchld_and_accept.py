"""A SIGCHLD arriving while the parent blocks in accept, in each disposition.

These are the heart of the project: the kernel-internal ERESTARTSYS only a
tracer sees, then EINTR for the program (no SA_RESTART), a transparent
restart (SA_RESTART), the kernel reaping under SIG_IGN, and CPython's own
retry (PEP 475).  The programs make the order deterministic with sleep-free
handshakes (tests/integration/programs/handshake.h).
"""

from __future__ import annotations

from collections.abc import Callable

from support.programs import python_program
from support.runs import Run

from harness.model.events import SignalEvent, SpawnEvent, SyscallEvent
from harness.model.syscalls import syscall_number


def _after(tokens: list[str], first: str) -> list[str]:
    return tokens[tokens.index(first) :]


def test_handler_without_sa_restart_turns_erestartsys_into_eintr(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("sigchld_accept"), "norestart"])

    story = run.trace.outline()["main"]
    assert _after(story, "accept -> ERESTARTSYS") == [
        "accept -> ERESTARTSYS",
        "--- SIGCHLD",
        "wait4",
        "wait4 -> ECHILD",
        "rt_sigreturn -> EINTR",
        "dup",  # perror("accept") duplicates stderr (glibc's perror checks its orientation on a copy)
        "close",
        "exit_group",
        "+++ exited 0",
    ]
    handler = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "rt_sigaction")
    assert handler.args["signal"] == "SIGCHLD"
    assert "SA_RESTART" not in handler.args["act"]["flags"]
    interrupted = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.errno == "ERESTARTSYS")
    assert interrupted.ret == -512
    child = next(e for e in run.trace if isinstance(e, SpawnEvent))
    sigchld = next(e for e in run.trace if isinstance(e, SignalEvent))
    assert sigchld.siginfo == {
        "si_signo": "SIGCHLD",
        "si_code": "CLD_EXITED",
        "si_pid": child.child_pid,
        "si_uid": sigchld.siginfo["si_uid"],
        "si_status": 0,
        # The child's CPU times, in clock ticks: the run's own, of the types the kernel gives them.
        "si_utime": sigchld.siginfo["si_utime"],
        "si_stime": sigchld.siginfo["si_stime"],
    }
    assert isinstance(sigchld.siginfo["si_utime"], int) and isinstance(sigchld.siginfo["si_stime"], int)
    reaped = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "wait4")
    assert reaped.args["options"] == ["WNOHANG"] and reaped.ret == child.child_pid
    assert run.stderr == "accept: Interrupted system call\n"


def test_handler_with_sa_restart_restarts_accept_without_eintr(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("sigchld_accept"), "restart"])

    story = run.trace.outline()["main"]
    assert _after(story, "accept -> ERESTARTSYS")[:6] == [
        "accept -> ERESTARTSYS",
        "--- SIGCHLD",
        "wait4",
        "wait4",
        "rt_sigreturn",
        "accept",
    ]
    assert not any("EINTR" in token for token in story)
    sigreturn = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "rt_sigreturn")
    assert sigreturn.ret == syscall_number("accept")  # the kernel rewound to the call itself
    accepted = [e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "accept"]
    assert accepted[-1].ret is not None and accepted[-1].ret >= 0
    assert run.stderr == ""


def test_sig_ign_lets_the_kernel_reap_and_wait_report_echild(
    traced: Callable[..., Run], c_program: Callable[[str], object]
) -> None:
    run = traced([c_program("sigchld_accept"), "ign"])

    action = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "rt_sigaction")
    assert action.args["act"]["handler"] == "SIG_IGN"
    assert action.args["oldact"]["handler"] == "SIG_DFL"
    wait = next(e for e in run.trace if isinstance(e, SyscallEvent) and e.name == "wait4")
    assert (wait.ret, wait.errno) == (-10, "ECHILD")
    assert not any(isinstance(e, SignalEvent) for e in run.trace.for_role("main"))
    assert run.trace.outline()["main.1"] == ["exit_group", "+++ exited 0"]


def test_python3_retries_the_interrupted_accept_itself(traced: Callable[..., Run]) -> None:
    run = traced(python_program("pep475_accept.py"))

    story = run.trace.outline()["main"]
    assert _after(story, "accept4 -> ERESTARTSYS")[:6] == [
        "accept4 -> ERESTARTSYS",
        "--- SIGCHLD",
        "rt_sigreturn -> EINTR",  # the C-level handler only notes the signal
        "wait4",  # then CPython runs the Python handler: reap the first child
        "wait4",  # WNOHANG: the second child still runs
        "accept4",  # and retries accept4 (PEP 475), where the second child connects
    ]
    assert run.stdout == "accepted after the interruption\n"
