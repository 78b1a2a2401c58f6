"""Which signals interrupt a call only because the task is traced (kernel/signal.c, sig_ignored; signal(7))."""

from __future__ import annotations

import pytest

from harness.model import kernel


@pytest.mark.parametrize("signal", sorted(kernel.IGNORED_BY_DEFAULT))
def test_a_signal_ignored_by_default_wakes_a_task_only_under_ptrace(signal: str) -> None:
    assert kernel.wakes_only_under_ptrace(signal, "SIG_DFL")
    assert not kernel.wakes_only_under_ptrace(signal, "handler")


@pytest.mark.parametrize("signal", ["SIGTERM", "SIGUSR1", "SIGCHLD"])
def test_sig_ign_discards_any_catchable_signal_untraced(signal: str) -> None:
    assert kernel.wakes_only_under_ptrace(signal, "SIG_IGN")


@pytest.mark.parametrize("signal", ["SIGKILL", "SIGSTOP"])
def test_sigkill_and_sigstop_are_never_ignored(signal: str) -> None:
    assert not kernel.ignored(signal, "SIG_IGN") and not kernel.ignored(signal, "SIG_DFL")


def test_a_signal_whose_default_acts_is_not_ignored_at_sig_dfl() -> None:
    assert not kernel.wakes_only_under_ptrace("SIGTERM", "SIG_DFL")
