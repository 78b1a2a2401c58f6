"""Injected faults and signals make each variant's EINTR handling testable without a child's exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.analysis.checked_trace import CheckedTrace
from harness.model.events import SignalEvent, SyscallEvent
from harness.model.injection import parse_injection
from harness.model.scenario import Scenario
from harness.running.ports import free_port
from harness.running.run import run_server
from harness.running.serving import run_spec, server_argv, server_spec

pytestmark = pytest.mark.ptrace


def _run_and_output(variant: str, *specs: str, connections: int = 2) -> tuple[CheckedTrace, str]:
    """The run's trace to check, and what the server printed."""
    run = run_spec(server_spec(variant), Scenario(connections), injections=[parse_injection(spec) for spec in specs])
    assert run.ok, run.summary() + run.server_output
    return CheckedTrace(run.trace, connections=connections), run.server_output


def _run(variant: str, *specs: str, connections: int = 2, seccomp: bool = False) -> CheckedTrace:
    return _run_and_output(variant, *specs, connections=connections)[0]


def test_an_injected_eintr_is_logged_and_accept_is_called_again(ptrace_permitted: None) -> None:
    trace, output = _run_and_output("fork_sigchld_raises", "accept4:error=EINTR:when=1:role=main")
    trace.sequence("accept4 -> EINTR", "accept4 -> $conn", "clone -> $child", "close($conn)", adjacent=False)
    (injected,) = [
        event for event in trace.find("accept4 -> EINTR") if isinstance(event, SyscallEvent) and event.injected
    ]
    assert injected.ret == -4 and injected.enter_seq < injected.seq
    assert output.count("accept: Interrupted system call") >= 1


def test_an_injected_eintr_takes_the_c_servers_perror_path(ptrace_permitted: None) -> None:
    trace, output = _run_and_output("c/echo_server", "accept:error=EINTR:when=1")
    trace.sequence("accept -> EINTR", "accept($listen) -> $conn", "clone")
    assert "accept: Interrupted system call" in output


def test_only_the_chosen_occurrence_is_hit(ptrace_permitted: None) -> None:
    trace = _run("fork_sigchld_raises", "accept4:error=EINTR:when=2", connections=2)
    injected = [e for e in trace.trace if isinstance(e, SyscallEvent) and e.injected]
    assert [(e.name, e.errno) for e in injected] == [("accept4", "EINTR")]
    accepts = [e for e in trace.trace if isinstance(e, SyscallEvent) and e.name == "accept4"]
    assert accepts.index(injected[0]) == 1  # the second accept4 of main


def test_an_injected_signal_interrupts_the_blocking_call_like_a_real_one(ptrace_permitted: None) -> None:
    trace = _run("fork_sigchld", "accept4:signal=SIGCHLD:when=1:role=main")
    (signal,) = [e for e in trace.trace if isinstance(e, SignalEvent) and e.injected]
    assert signal.name == "SIGCHLD" and signal.siginfo["si_code"] == "SI_TKILL"
    # The handler ran for a signal no child sent: accept4 failed with EINTR, the handler found nothing to reap.
    trace.sequence("accept4 -> ERESTARTSYS", "--- SIGCHLD {si_code=SI_TKILL}", "rt_sigreturn -> EINTR", "accept4")


def test_injection_gives_the_same_trace_with_the_seccomp_prefilter(ptrace_permitted: None) -> None:
    spec = parse_injection("accept4:error=EINTR:when=1:role=main")
    scenario = Scenario(2)
    outlines = []
    for seccomp in (False, True):
        port = free_port()
        command = server_argv(server_spec("fork_sigchld_raises"), port, 2)
        run = run_server(command, "echo", scenario, port=port, seccomp=seccomp, injections=[spec])
        assert run.ok
        outlines.append(run.trace.outline()["main"])
    assert outlines[0] == outlines[1]
    assert "accept4 -> EINTR" in outlines[1]


def test_an_injected_signal_at_a_later_accept_wins_over_the_next_client(ptrace_permitted: None) -> None:
    """At the 2nd accept4 a client is due too: the deterministic schedule lets it in only after the signal.

    Were the client let in at the entry, accept4 would find its connection queued and return it before
    seeing the signal pending; the signal would be delivered after the call, interrupting nothing.
    """
    trace = _run("fork_sigchld", "accept4:signal=SIGCHLD:when=2:role=main", connections=3)
    (signal,) = [e for e in trace.trace if isinstance(e, SignalEvent) and e.injected]
    accepts = [e for e in trace.trace if isinstance(e, SyscallEvent) and e.name == "accept4" and e.role == "main"]
    assert accepts[1].errno == "ERESTARTSYS" and accepts[1].seq < signal.seq
    trace.sequence("accept4 -> $conn", "accept4 -> ERESTARTSYS", "--- SIGCHLD {si_code=SI_TKILL}", "accept4 -> $conn")


def test_a_call_an_injected_error_skips_is_no_wait_for_a_held_child(ptrace_permitted: None) -> None:
    """The child is held at its exit when the parent's accept4 fails with an injected EINTR.

    That accept4 returns at once: were the child let go there, its SIGCHLD would land while the parent
    runs on (the server polls the child's state after an EINTR, and then sees it end).  It must be the
    next accept4, which blocks, that the child's SIGCHLD interrupts.
    """
    port = free_port()
    server = Path(__file__).parent / "servers" / "child_ends_before_next_accept.py"
    run = run_server(
        [sys.executable, str(server), str(port), "2"],
        "echo",
        Scenario(2),
        port=port,
        injections=[parse_injection("accept4:error=EINTR:when=2:role=main")],
    )
    assert run.ok, run.failure()
    accepts = [e for e in run.trace if isinstance(e, SyscallEvent) and e.role == "main" and e.name == "accept4"]
    assert [(e.errno, e.injected) for e in accepts[:4]] == [
        (None, False),
        ("EINTR", True),
        ("ERESTARTSYS", False),
        (None, False),
    ]


HARNESS = (sys.executable, "-m", "harness")
EVERY_ENTRY = "accept4:signal=SIGCHLD:when=1+"


def test_an_injected_signal_that_interrupts_every_re_entry_is_named_and_stopped(tmp_path: Path) -> None:
    """fork_sigchld retries accept4 after EINTR (PEP 475): a signal at every entry would spin until the time limit."""
    jsonl = tmp_path / "run.jsonl"
    done = subprocess.run(
        [*HARNESS, "run", "fork_sigchld", "--inject", EVERY_ENTRY, "--jsonl", str(jsonl), "-o", os.devnull],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(
        "harness: --inject accept4:signal=SIGCHLD: main entered accept4 1001 times in a row and the signal "
        "interrupted it each time"
    )
    text = jsonl.read_text()
    assert text.endswith("\n") and text.count("ERESTARTSYS") >= 1000  # every line whole, up to the stop


def test_an_injected_value_is_what_the_program_gets_and_the_kernel_never_ran_the_call(
    ptrace_permitted: None, tmp_path: Path
) -> None:
    """As strace's retval=: the program reads the value given, the trace marks it, the next call is the kernel's."""
    jsonl = tmp_path / "run.jsonl"
    program = [sys.executable, "-I", "-S", "-c", "import os; print(os.getpid(), os.getpid() == os.getppid())"]
    harness = [sys.executable, "-m", "harness"]
    inject = ["--syscalls", "getpid", "--inject", "getpid:retval=42:when=1"]
    done = subprocess.run(
        [*harness, "trace", *inject, "--jsonl", str(jsonl), "-o", os.devnull, "--", *program],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "42"  # the first getpid never reached the kernel
    shown = subprocess.run([*harness, "show", str(jsonl)], capture_output=True, text=True, check=True)
    calls = [line.split("] ", 1)[1] for line in shown.stdout.splitlines() if "] getpid()" in line]
    assert calls[0] == "getpid() = 42 (INJECTED)"
    assert calls[1].startswith("getpid() = ") and "INJECTED" not in calls[1] and calls[1] != calls[0]
