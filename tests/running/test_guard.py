"""Which calls of a tracee the guard refuses: those that reach the harness, read as the kernel reads them."""

from __future__ import annotations

import os
import signal

import pytest

from harness.model.syscalls import syscall_number
from harness.running.tracer.guard import Guard

HARNESS = Guard(pid=4000, pgid=4000)
SERVER = os.getpid()  # a caller whose process group is this test's, not the guard's


def _refusal(call: str, *raw: int) -> str | None:
    return HARNESS.refusal(SERVER, syscall_number(call), (*raw, 0, 0, 0, 0, 0, 0)[:6])


@pytest.mark.parametrize(
    ("call", "raw", "said"),
    [
        ("kill", (4000, signal.SIGSTOP), "send SIGSTOP to the harness"),
        ("kill", (0xDEFACED_00000000 | 4000, signal.SIGTERM), "send SIGTERM to the harness"),  # the kernel's int
        ("kill", (-4000 & (1 << 64) - 1, signal.SIGTERM), "send SIGTERM to its process group, the harness's too"),
        ("kill", ((1 << 64) - 1, signal.SIGKILL), "send SIGKILL to every process on the machine"),
        ("tgkill", (4000, 4000, signal.SIGHUP), "send SIGHUP to the harness"),
        ("rt_sigqueueinfo", (4000, signal.SIGINT, 0), "send SIGINT to the harness"),
        ("ptrace", (16, 4000), "trace the harness"),
        ("pidfd_open", (4000, 0), "open a descriptor of the harness"),
        ("prlimit64", (4000, 7, 0x7FFC0000, 0), "change the harness's resource limits"),
    ],
)
def test_a_call_that_reaches_the_harness_is_refused_and_said(call: str, raw: tuple[int, ...], said: str) -> None:
    refusal = _refusal(call, *raw)
    assert refusal is not None and refusal.startswith(said)


@pytest.mark.parametrize(
    ("call", "raw"),
    [
        ("kill", (4000, 0)),  # a probe sends nothing
        ("kill", (4001, signal.SIGTERM)),  # another process
        ("kill", (0, signal.SIGTERM)),  # the caller's own group, not the harness's
        ("kill", (-4001 & (1 << 64) - 1, signal.SIGTERM)),
        ("prlimit64", (4000, 7, 0, 0x7FFC0000)),  # only reads the limits
        ("ptrace", (16, 4001)),
    ],
)
def test_a_call_that_spares_the_harness_goes_through(call: str, raw: tuple[int, ...]) -> None:
    assert _refusal(call, *raw) is None


def test_the_prefilter_stops_kill_only_for_targets_that_may_be_the_harness() -> None:
    rules = HARNESS.filter_rules()
    argument, values = rules[syscall_number("kill")] or (None, frozenset())
    assert argument == 0 and values == {4000, -4000, -1, 0}
    assert rules[syscall_number("tkill")] is None  # every tkill: the harness's later threads have unknown ids
