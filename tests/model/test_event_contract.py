"""The contract a decoded argument is held to when a trace is read back: what the tracer writes, and no more."""

from __future__ import annotations

from typing import Any

import pytest

from harness.model.event_contract import check_event
from harness.model.events import SyscallEvent, TraceFormatError


def _clone(parent_tid: Any) -> SyscallEvent:
    args = {"child_stack": None, "flags": ["CLONE_PARENT_SETTID"], "exit_signal": "SIGCHLD", "parent_tid": parent_tid}
    return SyscallEvent(seq=2, pid=10, tid=10, role="main", name="clone", args=args, ret=11, errno=None, enter_seq=1)


@pytest.mark.parametrize("parent_tid", [11, "0x7f0a2c000000"], ids=["written", "its address"])
def test_a_number_the_kernel_writes_at_an_address_may_be_that_address(parent_tid: Any) -> None:
    # The tracer keeps the address where the kernel wrote no tid (strace prints parent_tid=0x7f...).
    check_event(_clone(parent_tid))


def test_a_number_at_an_address_is_still_held_to_its_shape() -> None:
    with pytest.raises(TraceFormatError, match=r"args\.parent_tid"):
        check_event(_clone([11]))
