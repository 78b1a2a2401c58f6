"""A call's arguments read back from strace's text in each notation as the tracer decodes them.

The tracer's side of each case is its own decoder's naming
(:class:`harness.model.kernel_flags.Xlat`), so a value strace printed
plainly, with ``-X raw`` or with ``-X verbose`` reads as the harness's trace
of the same call would hold it.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.model.strace_log.arguments import decode_args


@pytest.mark.parametrize(
    ("call", "texts", "key", "value"),
    [
        # flags: names, a raw number, verbose names, an unknown bit after names and alone
        ("accept4", ["3", "NULL", "NULL", "SOCK_CLOEXEC|SOCK_NONBLOCK"], "flags", ["SOCK_CLOEXEC", "SOCK_NONBLOCK"]),
        ("accept4", ["3", "NULL", "NULL", "0x80801"], "flags", ["SOCK_CLOEXEC", "SOCK_NONBLOCK", "0x1"]),
        ("accept4", ["3", "NULL", "NULL", "0x80000 /* SOCK_CLOEXEC */"], "flags", ["SOCK_CLOEXEC"]),
        ("accept4", ["3", "NULL", "NULL", "SOCK_CLOEXEC|0x1"], "flags", ["SOCK_CLOEXEC", "0x1"]),
        ("accept4", ["3", "NULL", "NULL", "0x1 /* SOCK_??? */"], "flags", ["0x1 /* SOCK_??? */"]),
        ("accept4", ["3", "NULL", "NULL", "0x1"], "flags", ["0x1 /* SOCK_??? */"]),
        # names: a raw number, an unknown value plainly and raw, a table with no family (a bare number)
        ("waitid", ["1", "42", "NULL", "WEXITED", "NULL"], "idtype", "P_PID"),
        ("waitid", ["0x2a /* P_??? */", "0", "NULL", "WEXITED", "NULL"], "idtype", "0x2a /* P_??? */"),
        ("waitid", ["42", "0", "NULL", "WEXITED", "NULL"], "idtype", "0x2a /* P_??? */"),
        ("fcntl", ["3", "0x270f /* F_??? */"], "cmd", "0x270f /* F_??? */"),
        ("clock_nanosleep", ["99", "0", "{tv_sec=1, tv_nsec=0}", "NULL"], "clockid", 99),
        # a command with no table of its own keeps its family from strace's comment
        ("futex", ["0x7f00", "0xe /* FUTEX_??? */", "1", "NULL", "NULL", "0"], "op", ["0xe /* FUTEX_??? */"]),
        # a signal number that names no signal stays a number
        ("kill", ["42", "65"], "signal", 65),
        # a number the kernel wrote at an address, or the address where it wrote none
        ("clone", ["child_stack=NULL", "flags=CLONE_PARENT_SETTID", "parent_tid=[42]"], "parent_tid", 42),
        ("clone", ["child_stack=NULL", "flags=CLONE_PARENT_SETTID", "parent_tid=0x7f00"], "parent_tid", "0x7f00"),
    ],
)
def test_an_argument_reads_as_the_tracer_decodes_it(call: str, texts: list[str], key: str, value: Any) -> None:
    assert decode_args(call, texts, None)[key] == value


def test_clone3s_size_is_not_taken_for_what_the_kernel_wrote() -> None:
    assert decode_args("clone3", ["NULL", "0"], None) == {"flags": None, "exit_signal": None, "size": 0}
